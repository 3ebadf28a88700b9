// space.*: free space on the crypt and, for an image, on the filesystem that holds the image (a sparse
// image grows as the crypt fills: the host must have room for the rest of it).
import { stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import type { DoctorEnv } from './doctor-env.js';
import { advice, cannotCheck, manual, ok, type Check } from './findings.js';
import { humanSize } from '../model/units.js';
import { readSnapshotDir } from '../runtime/snapshots/meta.js';
import { usageNow } from '../runtime/status/space.js';
import { usagePoints } from '../runtime/status/gather.js';
import { describeTrend, spaceTrend } from '../runtime/status/trend.js';

/** Low when less than 10% of the filesystem and less than 1 GiB are available (small test crypts stay quiet). */
export const LOW_SPACE = { fraction: 0.1, bytes: 2 ** 30 };

export function isLow(availBytes: number, totalBytes: number): boolean {
  return availBytes < Math.min(totalBytes * LOW_SPACE.fraction, LOW_SPACE.bytes);
}

async function space(dir: string): Promise<{ avail: number; total: number }> {
  const s = await statfs(dir);
  return { avail: Number(s.bavail) * Number(s.bsize), total: Number(s.blocks) * Number(s.bsize) };
}

export async function checkCryptSpace(env: DoctorEnv): Promise<Check> {
  const id = 'space.crypt';
  const { avail, total } = await space(env.root);
  const finding = `${humanSize(avail)} of ${humanSize(total)} free on the crypt`;
  if (isLow(avail, total)) return manual(id, finding, 'delete old snapshots (`lychd-crypt prune` / `delete`) or grow the filesystem');
  return ok(id, finding);
}

/** space.trend: at the pace the snapshots' recorded usage shows, is the crypt full within 30 days? Then: grow soon, and how. */
export async function checkSpaceTrend(env: DoctorEnv): Promise<Check> {
  const id = 'space.trend';
  if (!env.config) return cannotCheck(id, 'the configuration is not readable');
  const dir = await readSnapshotDir(env.paths).catch(() => null);
  const now = new Date();
  const used = await usageNow(env.root);
  const free = await space(env.root);
  const trend = dir ? spaceTrend(usagePoints(dir.complete, now, used?.usedBytes ?? null), now.getTime(), free.avail, env.config) : null;
  if (!trend) return ok(id, 'not enough history for a trend yet (snapshots an hour apart, with their recorded usage)');
  if (trend.advice) return advice(id, `grow soon: ${describeTrend(trend)}`, trend.advice);
  return ok(id, describeTrend(trend));
}

export async function checkImageHostSpace(image: string): Promise<Check> {
  const id = 'space.host';
  const st = await stat(image).catch(() => null);
  if (!st) return cannotCheck(id, `the image ${image} is missing`);
  const dir = path.dirname(image);
  const { avail, total } = await space(dir);
  const unallocated = Math.max(0, st.size - st.blocks * 512);
  const finding = `${humanSize(avail)} free on the image's filesystem (${dir}); the image may still grow by ${humanSize(unallocated)}`;
  // A sparse image's writes into its holes fail once the host is full, and Btrfs then forces the crypt read-only.
  if (avail < unallocated) {
    return manual(
      id,
      `${finding}: the crypt cannot fill up before its host is full (Btrfs would then force it read-only)`,
      `free space on the filesystem holding ${dir}, then preallocate the image: \`lychd-crypt resize --preallocate\` (needs ${humanSize(unallocated)} there); or shrink it to what the host can back: \`lychd-crypt resize --size SIZE\``,
    );
  }
  if (isLow(avail, total)) return manual(id, finding, `free space on the filesystem holding ${dir}`);
  return ok(id, finding);
}
