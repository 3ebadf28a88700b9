// The devices of a mounted Btrfs filesystem and how much of it is used: `btrfs filesystem show --raw`
// (each devid, its size and path) and `btrfs filesystem usage -b` (bytes used, metadata copies included),
// what a resize plans from.
import type { Runner } from '../runner.js';

export interface BtrfsDevice {
  devid: number;
  /** The size Btrfs uses of the device (what `btrfs filesystem resize` changes). */
  size: number;
  /** Bytes allocated to chunks on it. */
  used: number;
  path: string;
}

/** Parses `btrfs filesystem show --raw MOUNTPOINT`: one `devid N size S used U path P` line per device. */
export function parseFilesystemShow(text: string): BtrfsDevice[] {
  const out: BtrfsDevice[] = [];
  for (const m of text.matchAll(/^\s*devid\s+(\d+)\s+size\s+(\d+)\s+used\s+(\d+)\s+path\s+(\S+)\s*$/gm)) {
    out.push({ devid: Number(m[1]), size: Number(m[2]), used: Number(m[3]), path: m[4]! });
  }
  return out;
}

/** Parses the `Used:` line of `btrfs filesystem usage -b` (data and every metadata copy), or null. */
export function parseUsageUsed(text: string): number | null {
  const m = /^\s*Used:\s+(\d+)\s*$/m.exec(text);
  return m ? Number(m[1]) : null;
}

export async function readDevices(runner: Runner, mountPoint: string): Promise<BtrfsDevice[]> {
  return parseFilesystemShow((await runner.run(['btrfs', 'filesystem', 'show', '--raw', mountPoint])).stdout);
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
