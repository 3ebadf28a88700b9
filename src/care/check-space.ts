// space.*: free space on the crypt and, for an image, on the filesystem that holds the image (a sparse
// image grows as the crypt fills: the host must have room for the rest of it).
import { stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import type { DoctorEnv } from './doctor-env.js';
import { cannotCheck, manual, ok, type Check } from './findings.js';
import { humanSize } from '../model/units.js';

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
