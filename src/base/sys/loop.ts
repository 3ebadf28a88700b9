// Loop devices, as sysfs shows them to anyone (losetup reads the same).
import { readFile } from 'node:fs/promises';

/** The backing file of a loop device (`/dev/loopN`), or null for anything else. */
export async function loopBackingFile(source: string): Promise<string | null> {
  const m = /^\/dev\/(loop\d+)$/.exec(source);
  if (!m) return null;
  try {
    return (await readFile(`/sys/block/${m[1]}/loop/backing_file`, 'utf8')).trim() || null;
  } catch {
    return null;
  }
}
