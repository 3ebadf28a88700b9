// /proc/self/mountinfo, read in this process: what findmnt(8) reads, without starting it (snapshot and
// status ask on every run). Mount points are octal-escaped there (a space is \040).
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';

export interface MountinfoEntry {
  /** The mount point, unescaped. */
  point: string;
  /** The mounted device (`/dev/loop3`), the filesystem type, and the mount's root within it (`/` for the top). */
  source: string;
  /** The filesystem's device number (`0:53`: st_dev of its superblock, as /proc/locks names it). */
  majMin: string;
  fstype: string;
  fsroot: string;
  /** The mount's (VFS) options, field 6. */
  vfs: string;
  /** The superblock's options, the last field. */
  sb: string;
}

/** Pure: one entry per line, in mount order (the last at a point is the top of a stack). */
export function parseMountinfo(text: string): MountinfoEntry[] {
  const decode = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const f = line.split(' ');
      const sep = f.indexOf('-');
      return {
        point: decode(f[4] ?? ''),
        vfs: f[5] ?? '',
        sb: sep > 0 ? (f[sep + 3] ?? '') : '',
        source: sep > 0 ? decode(f[sep + 2] ?? '') : '',
        fstype: sep > 0 ? (f[sep + 1] ?? '') : '',
        fsroot: decode(f[3] ?? ''),
        majMin: f[2] ?? '',
      };
    });
}

export const readMountinfo = async (): Promise<MountinfoEntry[]> => parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'));

/** The mount holding `realPath` (an existing real path), as `findmnt --target` finds it: the nearest enclosing mount point, the last one mounted there. */
export function mountHoldingPath(mounts: MountinfoEntry[], realPath: string): MountinfoEntry | null {
  for (let p = realPath; ; p = path.dirname(p)) {
    const m = [...mounts].reverse().find((x) => x.point === p);
    if (m || p === '/') return m ?? null;
  }
}

/** Is something mounted exactly at `mountPoint` (as `findmnt --mountpoint` finds it: by its real path)? */
export async function isMountPoint(mountPoint: string): Promise<boolean> {
  const real = await realpath(mountPoint).catch(() => null);
  return real !== null && (await readMountinfo()).some((m) => m.point === real);
}
