// Exclusive size of snapshots from Btrfs quota groups, only where that is cheap: when quotas are already
// enabled. We never enable quotas ourselves (they cost write performance on the whole filesystem).
import { readFile, stat } from 'node:fs/promises';
import type { Runner } from '../runner.js';
import { btrfsFsUuid, closeDir, openDir } from '../sys/fd.js';

/** Parses `btrfs qgroup show --raw` into subvolume id -> exclusive bytes (level-0 groups only). */
export function parseQgroupShow(text: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split('\n')) {
    const m = /^0\/(\d+)\s+(\d+)\s+(\d+)/.exec(line.trim());
    if (m) out.set(Number(m[1]), Number(m[3]));
  }
  return out;
}

/** Does the kernel `release` (uname -r) list a Btrfs filesystem's quota groups in sysfs (Linux 5.9+)? */
export function sysfsHasQgroups(release: string): boolean {
  const [major = 0, minor = 0] = release.split(/[.-]/).map(Number);
  return major > 5 || (major === 5 && minor >= 9);
}

/**
 * Whether quotas are off, asked of sysfs without starting a process: /sys/fs/btrfs/<fsid>/qgroups exists
 * exactly while they are on (Linux 5.9+). Undefined when sysfs cannot tell (an older kernel, no sysfs).
 */
async function quotasOffPerSysfs(anyPathOnFs: string): Promise<boolean | undefined> {
  try {
    if (!sysfsHasQgroups(await readFile('/proc/sys/kernel/osrelease', 'utf8'))) return undefined;
    const dir = await openDir(anyPathOnFs);
    let fs: string;
    try {
      fs = `/sys/fs/btrfs/${await btrfsFsUuid(dir)}`;
    } finally {
      await closeDir(dir);
    }
    await stat(fs); // the filesystem is listed: its qgroups directory, or its absence, means what it says
    return await stat(`${fs}/qgroups`).then(
      () => false,
      () => true,
    );
  } catch {
    return undefined;
  }
}

/** Subvolume id -> exclusive bytes, or null when quotas are off (or the numbers are being rescanned). */
export async function exclusiveSizes(runner: Runner, anyPathOnFs: string): Promise<Map<number, number> | null> {
  // Off (the usual case, and what `list` asks on every run): known without `btrfs`, so `list` starts no process.
  if (await quotasOffPerSysfs(anyPathOnFs)) return null;
  const r = await runner.run(['btrfs', 'qgroup', 'show', '--raw', anyPathOnFs], { allowFailure: true });
  if (r.exitCode !== 0) return null;
  // While a rescan runs the numbers are wrong; btrfs-progs warns on stderr. Better no number than a wrong one.
  if (/inconsistent|rescan/i.test(r.stderr)) return null;
  return parseQgroupShow(r.stdout);
}
