// Which regular files and directories of a tree lack the C (nodatacow) attribute, read with lsattr -d
// in batches (symlinks and special files carry no flags and are skipped).
import { lstat } from 'node:fs/promises';
import type { Runner } from '../base/runner.js';
import type { TreeEntry } from './walk.js';

const BATCH = 400;

/** Parses `lsattr -d` output lines `<flags> <path>` into a path → has-C map. */
export function parseLsattr(stdout: string): Map<string, boolean> {
  const flags = new Map<string, boolean>();
  for (const line of stdout.split('\n')) {
    const m = /^(\S+) (.+)$/.exec(line);
    if (m) flags.set(m[2]!, m[1]!.includes('C'));
  }
  return flags;
}

/** The entry is still the one that was walked (same inode): not removed or replaced since. */
async function stillThere(e: TreeEntry): Promise<boolean> {
  const st = await lstat(e.path).catch(() => null);
  return st !== null && st.ino === e.st.ino && st.dev === e.st.dev;
}

/**
 * Entries that exist and lack C. A live PostgreSQL removes and recycles WAL segments while we look: an
 * entry lsattr could not read (it vanished, so it is absent from the output) is not a finding; one read
 * without C counts only if it is still the same file afterwards.
 */
export async function entriesWithoutNocow(runner: Runner, entries: TreeEntry[]): Promise<TreeEntry[]> {
  const flagged = entries.filter((e) => e.st.isFile() || e.st.isDirectory());
  const missing: TreeEntry[] = [];
  for (let i = 0; i < flagged.length; i += BATCH) {
    const batch = flagged.slice(i, i + BATCH);
    const r = await runner.run(['lsattr', '-d', '--', ...batch.map((e) => e.path)], { allowFailure: true });
    const flags = parseLsattr(r.stdout);
    for (const e of batch) {
      const hasC = flags.get(e.path);
      if (hasC === true) continue;
      if (hasC === undefined && !(await stillThere(e))) continue; // gone between the walk and lsattr
      if (hasC === false && !(await stillThere(e))) continue; // replaced by a new file meanwhile
      missing.push(e);
    }
  }
  return missing;
}
