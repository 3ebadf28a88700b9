// The devices of a mounted Btrfs filesystem and how much of it is used: `btrfs device usage -b` (each
// devid, its path, the size Btrfs uses of it and what is allocated) and `btrfs filesystem usage -b` (bytes
// used, metadata copies included), what a resize plans from. Not `btrfs filesystem show MOUNTPOINT`:
// btrfs-progs finds the mount point by opening every Btrfs mount in /proc/self/mounts first and gives up
// ("not a valid btrfs filesystem") when any other one vanishes in between; `device usage` only asks the
// filesystem it is given, through an open directory.
import type { Runner } from '../runner.js';

export interface BtrfsDevice {
  devid: number;
  /** The size Btrfs uses of the device (what `btrfs filesystem resize` changes). */
  size: number;
  /** Bytes allocated to chunks on it. */
  used: number;
  path: string;
}

/**
 * Parses `btrfs device usage -b MOUNTPOINT`: per device a `PATH, ID: N` line, then `Device size:` (the
 * block device), `Device slack:` (what Btrfs leaves of it unused: the size Btrfs uses is the difference),
 * the chunk lines and `Unallocated:` (the rest of what Btrfs uses is allocated).
 */
export function parseDeviceUsage(text: string): BtrfsDevice[] {
  const out: BtrfsDevice[] = [];
  for (const block of text.split(/^(?=\S.*, ID: \d+\s*$)/m)) {
    const head = /^(\S.*), ID: (\d+)\s*$/m.exec(block);
    const field = (name: string) => {
      const m = new RegExp(`^\\s+${name}:\\s+(\\d+)\\s*$`, 'm').exec(block);
      return m ? Number(m[1]) : null;
    };
    const device = field('Device size');
    const unallocated = field('Unallocated');
    if (!head || device === null || unallocated === null) continue;
    const size = device - (field('Device slack') ?? 0);
    out.push({ devid: Number(head[2]), size, used: size - unallocated, path: head[1]! });
  }
  return out;
}

/** Parses the `Used:` line of `btrfs filesystem usage -b` (data and every metadata copy), or null. */
export function parseUsageUsed(text: string): number | null {
  const m = /^\s*Used:\s+(\d+)\s*$/m.exec(text);
  return m ? Number(m[1]) : null;
}

export async function readDevices(runner: Runner, mountPoint: string): Promise<BtrfsDevice[]> {
  return parseDeviceUsage((await runner.run(['btrfs', 'device', 'usage', '-b', mountPoint])).stdout);
}

export async function readUsedBytes(runner: Runner, mountPoint: string): Promise<number> {
  const text = (await runner.run(['btrfs', 'filesystem', 'usage', '-b', mountPoint])).stdout;
  const used = parseUsageUsed(text);
  if (used === null) throw new Error(`btrfs filesystem usage printed no "Used:" line for ${mountPoint}`);
  return used;
}

/** The size of a block device in bytes (`blockdev --getsize64`). */
export async function blockDeviceSize(runner: Runner, device: string): Promise<number> {
  return Number((await runner.run(['blockdev', '--getsize64', device])).stdout.trim());
}
