// Is a Btrfs filesystem writable, and has it counted errors? findmnt's per-mount (VFS) and per-superblock
// (FS) options tell a read-only mount from a filesystem Btrfs forced read-only after a write error (e.g. the
// host under a loopback image filled up): then the mount still says rw, the superblock says ro. `btrfs
// device stats` keeps the I/O and checksum (corruption) error counters of every device.
import { readdir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { Runner } from '../runner.js';
import { parseMountinfo } from '../sys/mountinfo.js';

export type Writability = { kind: 'rw' } | { kind: 'ro' } | { kind: 'forced-ro' } | { kind: 'unknown'; why: string };

interface FindmntOptions {
  filesystems?: { 'vfs-options'?: string; 'fs-options'?: string }[];
}

/** Pure: from `findmnt -J -o VFS-OPTIONS,FS-OPTIONS` of one mount (the last entry is the top of a stack). */
export function parseWritability(json: string): Writability {
  const fs = (JSON.parse(json) as FindmntOptions).filesystems?.at(-1);
  if (!fs) return { kind: 'unknown', why: 'findmnt listed nothing' };
  const vfs = (fs['vfs-options'] ?? '').split(',');
  const sb = (fs['fs-options'] ?? '').split(',');
  if (vfs.includes('ro')) return { kind: 'ro' };
  if (sb.includes('ro')) return { kind: 'forced-ro' };
  return { kind: 'rw' };
}

/**
 * Pure: the same from /proc/self/mountinfo, which is where findmnt reads them (field 6 the mount's options,
 * the last field the superblock's). The mount at `mountPoint` exactly, or (`--target`) the one holding the
 * path, found as findmnt finds it: the nearest enclosing mount point, the last one mounted there.
 */
export function writabilityFromMountinfo(text: string, realTarget: string, how: '--mountpoint' | '--target'): Writability {
  const mounts = parseMountinfo(text);
  for (let p = realTarget; ; p = path.dirname(p)) {
    const m = [...mounts].reverse().find((x) => x.point === p);
    if (m) return parseWritability(JSON.stringify({ filesystems: [{ 'vfs-options': m.vfs, 'fs-options': m.sb }] }));
    if (how === '--mountpoint' || p === '/') return { kind: 'unknown', why: `no mount at ${realTarget}` };
  }
}

/**
 * `target` is a mount point (--mountpoint) or any path on the filesystem (--target). Read from mountinfo
 * in this process (what `findmnt -o VFS-OPTIONS,FS-OPTIONS` shows, without starting it: every snapshot asks).
 */
export async function readWritability(_runner: Runner, target: string, how: '--mountpoint' | '--target' = '--mountpoint'): Promise<Writability> {
  // A caller that may not reach the path (a monitoring user) still reads mountinfo, by the path as given.
  const real = await realpath(target).catch((e: NodeJS.ErrnoException) => (e.code === 'EACCES' && path.isAbsolute(target) ? target : null));
  if (!real) return { kind: 'unknown', why: `${target} does not exist` };
  return writabilityFromMountinfo(await readFile('/proc/self/mountinfo', 'utf8'), real, how);
}

export interface DeviceErrors {
  device: string;
  /** Non-zero counters only, e.g. { write_io_errs: 3, corruption_errs: 1 }. */
  counters: Record<string, number>;
}

/** Pure: `btrfs device stats` lines `[/dev/loop3].write_io_errs    0` → devices with non-zero counters. */
export function parseDeviceStats(stdout: string): DeviceErrors[] {
  const byDevice = new Map<string, Record<string, number>>();
  for (const line of stdout.split('\n')) {
    const m = /^\[(.+)\]\.(\w+)\s+(\d+)\s*$/.exec(line.trim());
    if (!m) continue;
    const counters = byDevice.get(m[1]!) ?? {};
    byDevice.set(m[1]!, counters);
    if (Number(m[3]) > 0) counters[m[2]!] = Number(m[3]);
  }
  return [...byDevice].filter(([, c]) => Object.keys(c).length > 0).map(([device, counters]) => ({ device, counters }));
}

export async function readDeviceErrors(runner: Runner, mountPoint: string): Promise<DeviceErrors[]> {
  // Exit 64 with --check means "some counter is non-zero"; without it the exit is 0 and we parse.
  const r = await runner.run(['btrfs', 'device', 'stats', mountPoint]);
  return parseDeviceStats(r.stdout);
}

/**
 * The same counters without privilege: /sys/fs/btrfs/<fsid>/devinfo/<devid>/error_stats (world-readable,
 * Linux 5.14+), for the owner of a rootless crypt, who may not run `btrfs device stats`.
 */
export async function readDeviceErrorsSysfs(fsUuid: string): Promise<DeviceErrors[]> {
  const base = `/sys/fs/btrfs/${fsUuid}/devinfo`;
  const out: DeviceErrors[] = [];
  for (const devid of await readdir(base)) {
    const counters: Record<string, number> = {};
    for (const line of (await readFile(`${base}/${devid}/error_stats`, 'utf8')).split('\n')) {
      const [k, v] = line.trim().split(/\s+/);
      if (k && Number(v) > 0) counters[k] = Number(v);
    }
    if (Object.keys(counters).length) out.push({ device: `devid ${devid}`, counters });
  }
  return out;
}
