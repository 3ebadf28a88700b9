// Who holds the crypt lock, without touching it: readers (doctor, list) must tell "in progress" from
// "interrupted", and even a momentary flock of their own could make a concurrent mutating command exit 4.
// /proc/locks names each flock by device and inode; the device is the filesystem's (superblock's) number,
// which on Btrfs differs from a subvolume's st_dev, so it is taken from the mount (mountinfo's MAJ:MIN, what
// findmnt shows, read without starting it: status --check asks every few minutes).
import { readFile, realpath, stat } from 'node:fs/promises';
import type { Runner } from '../runner.js';
import { mountHoldingPath, readMountinfo } from '../sys/mountinfo.js';

/** Pure: the PID holding an exclusive flock on `key` ("00:2a:258") in /proc/locks text; waiters ("->") are skipped. */
export function flockHolder(procLocks: string, key: string): number | null {
  for (const line of procLocks.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[1] === '->') continue;
    if (f[1] === 'FLOCK' && f[3] === 'WRITE' && f[5] === key) return Number(f[4]);
  }
  return null;
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/**
 * The PID of ANOTHER process holding the lock file's flock, or null (no holder, no lock file, or this
 * process itself: repair runs doctor's checks while it holds the lock).
 */
export async function lockHolder(_runner: Runner, lockFile: string): Promise<number | null> {
  const st = await stat(lockFile).catch(() => null);
  if (!st) return null;
  const mount = mountHoldingPath(await readMountinfo(), await realpath(lockFile).catch(() => lockFile));
  const m = /^(\d+):(\d+)$/.exec(mount?.majMin ?? '');
  if (!m) return null;
  const key = `${hex2(Number(m[1]))}:${hex2(Number(m[2]))}:${st.ino}`;
  const pid = flockHolder(await readFile('/proc/locks', 'utf8').catch(() => ''), key);
  return pid === process.pid ? null : pid;
}
