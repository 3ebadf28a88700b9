// Free space as the floor and the health signal count it. On a loopback image (Method B) the crypt's own
// free space is not the whole story: a sparse image grows as the crypt fills, and once the host filesystem
// is full it cannot grow, whatever Btrfs inside believes. So the usable free space is the crypt's, less
// the part of the image's remaining growth the host cannot hold.
import { stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../model/config.js';
import type { FreeFloor } from '../../model/settings.js';

export interface SpaceFacts {
  /** Size of the crypt's filesystem. */
  sizeBytes: number;
  /** What the crypt's filesystem reports available (statfs f_bavail). */
  cryptFreeBytes: number;
  /** Loopback only: the host filesystem holding the image, and the image's not yet allocated part. */
  host: { freeBytes: number; imageGrowthBytes: number } | null;
  /** What can really still be written: min of the crypt's free space and what the host can back. */
  freeBytes: number;
  /** Estimated from sysfs (the caller cannot statfs the crypt's path). */
  estimated?: boolean;
}

/** Pure: the usable free space from the measurements. */
export function usableFree(cryptFree: number, host: SpaceFacts['host']): number {
  if (!host) return cryptFree;
  const shortfall = Math.max(0, host.imageGrowthBytes - host.freeBytes);
  return Math.max(0, cryptFree - shortfall);
}

/** Pure: the floor in bytes for a filesystem of `sizeBytes`. */
export function floorBytes(floor: FreeFloor, sizeBytes: number): number {
  return 'percent' in floor ? Math.ceil((sizeBytes * floor.percent) / 100) : floor.bytes;
}

async function fsSpace(dir: string): Promise<{ free: number; size: number }> {
  const s = await statfs(dir);
  return { free: Number(s.bavail) * Number(s.bsize), size: Number(s.blocks) * Number(s.bsize) };
}

/** The filesystem's size, used and free space (statfs: no process), recorded in each snapshot's metadata; null when it cannot be read. */
export async function usageNow(root: string): Promise<{ sizeBytes: number; usedBytes: number; freeBytes: number } | null> {
  const s = await statfs(root).catch(() => null);
  if (!s) return null;
  const b = Number(s.bsize);
  return { sizeBytes: Number(s.blocks) * b, usedBytes: (Number(s.blocks) - Number(s.bfree)) * b, freeBytes: Number(s.bavail) * b };
}

/** Loopback only: the free space of the filesystem holding the image, and what the image may still grow. */
export async function hostShortfall(config: Pick<Config, 'method' | 'loopback'>): Promise<SpaceFacts['host']> {
  if (config.method !== 'loopback' || !config.loopback) return null;
  const st = await stat(config.loopback.image).catch(() => null);
  if (!st) return null;
  const h = await fsSpace(path.dirname(config.loopback.image));
  return { freeBytes: h.free, imageGrowthBytes: Math.max(0, st.size - st.blocks * 512) };
}

export async function measureSpace(root: string, config: Pick<Config, 'method' | 'loopback'>): Promise<SpaceFacts> {
  const crypt = await fsSpace(root);
  const host = await hostShortfall(config);
  return { sizeBytes: crypt.size, cryptFreeBytes: crypt.free, host, freeBytes: usableFree(crypt.free, host) };
}
