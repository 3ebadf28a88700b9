// The crypt's free space from /sys/fs/btrfs/<fsid>, for a caller that may not reach the crypt's path to
// statfs it (a monitoring user; the owner's home is often 0700). What `btrfs filesystem usage` calls
// "Free (estimated)": the unused part of the data chunks, plus the unallocated device space at the data
// profile's ratio (single 1, DUP/RAID1 2), less the global reserve metadata may still take.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../model/config.js';
import { hostShortfall, usableFree, type SpaceFacts } from './space.js';

export interface SysfsAllocation {
  /** Bytes of the devices (sum). */
  deviceBytes: number;
  /** Bytes allocated to chunks on the devices (data, metadata, system; profile copies included). */
  allocatedBytes: number;
  dataTotal: number;
  dataUsed: number;
  /** disk_total / total_bytes of the data chunks (1 single, 2 DUP or RAID1). */
  dataRatio: number;
  globalReserve: number;
}

/** Pure: the estimate. */
export function estimateFree(a: SysfsAllocation): { sizeBytes: number; freeBytes: number } {
  const unallocated = Math.max(0, a.deviceBytes - a.allocatedBytes);
  const free = Math.max(0, a.dataTotal - a.dataUsed) + Math.floor(unallocated / (a.dataRatio || 1)) - a.globalReserve;
  return { sizeBytes: a.deviceBytes, freeBytes: Math.max(0, free) };
}

const num = async (p: string): Promise<number> => Number((await readFile(p, 'utf8')).trim()) || 0;

export async function readAllocation(fsid: string): Promise<SysfsAllocation> {
  const dir = path.join('/sys/fs/btrfs', fsid);
  let deviceBytes = 0;
  // /sys/class/block/<dev>/size counts 512-byte sectors whatever the device's block size.
  for (const dev of await readdir(path.join(dir, 'devices'))) deviceBytes += (await num(path.join('/sys/class/block', dev, 'size'))) * 512;
  let allocatedBytes = 0;
  for (const kind of ['data', 'metadata', 'system']) allocatedBytes += await num(path.join(dir, 'allocation', kind, 'disk_total'));
  const dataTotal = await num(path.join(dir, 'allocation/data/total_bytes'));
  const dataDisk = await num(path.join(dir, 'allocation/data/disk_total'));
  return {
    deviceBytes,
    allocatedBytes,
    dataTotal,
    dataUsed: await num(path.join(dir, 'allocation/data/bytes_used')),
    dataRatio: dataTotal ? dataDisk / dataTotal : 1,
    globalReserve: await num(path.join(dir, 'allocation/global_rsv_size')),
  };
}

/** SpaceFacts from sysfs (an estimate), the image's host counted as measureSpace does; null when sysfs cannot tell. */
export async function measureSpaceSysfs(fsid: string, config: Pick<Config, 'method' | 'loopback'>): Promise<SpaceFacts | null> {
  const a = await readAllocation(fsid).catch(() => null);
  if (!a || !a.deviceBytes) return null;
  const { sizeBytes, freeBytes } = estimateFree(a);
  const host = await hostShortfall(config).catch(() => null);
  return { sizeBytes, cryptFreeBytes: freeBytes, host, freeBytes: usableFree(freeBytes, host), estimated: true };
}
