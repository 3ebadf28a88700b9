// The facts the space estimate needs, read cheaply from the files: the cluster's WAL segment size (the
// size of any segment in pg_wal), the crypt's free space, and for a loopback image the room left on the
// host filesystem that holds it.
import { readdir, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { nsOp } from '../../base/userns/helper.js';
import { onTree } from '../../base/userns/tree.js';

const SEGMENT_NAME = /^[0-9A-F]{24}$/;
export const DEFAULT_WAL_SEGMENT = 16 * 2 ** 20;

/** null when PGDATA holds no cluster; the default when pg_wal has no segment or cannot be read. */
export async function readWalSegmentSize(pgdata: string): Promise<number | null> {
  return onTree(pgdata, null, walSegmentOp, pgdata);
}

/** Where PGDATA's owner may look (a container's PGDATA: the owner's user namespace, base/userns/tree.ts). */
export const walSegmentOp = nsOp('wal-segment', async (_ctx, pgdata: string): Promise<number | null> => {
  const names = await readdir(path.join(pgdata, 'pg_wal')).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : []));
  if (names === null) return null;
  for (const name of names.filter((n) => SEGMENT_NAME.test(n))) {
    const st = await stat(path.join(pgdata, 'pg_wal', name)).catch(() => null); // recycled away meanwhile: try the next
    if (st?.isFile() && st.size > 0) return st.size;
  }
  return DEFAULT_WAL_SEGMENT;
});

export interface FreeSpace {
  /** What the crypt's filesystem reports available to us. */
  cryptAvail: number;
  cryptTotal: number;
  /** Loopback: free space on the filesystem holding the image, and how much the sparse image may still grow. */
  host: { dir: string; avail: number; imageGrowth: number } | null;
  /** What can really be written: the crypt's free space, capped by the host's while the image is sparse. */
  usable: number;
}

async function fsSpace(dir: string): Promise<{ avail: number; total: number }> {
  const s = await statfs(dir);
  return { avail: Number(s.bavail) * Number(s.bsize), total: Number(s.blocks) * Number(s.bsize) };
}

export async function readFreeSpace(root: string, image: string | null): Promise<FreeSpace> {
  const crypt = await fsSpace(root);
  let host: FreeSpace['host'] = null;
  let usable = crypt.avail;
  const st = image ? await stat(image).catch(() => null) : null;
  if (image && st) {
    const dir = path.dirname(image);
    const h = await fsSpace(dir);
    const imageGrowth = Math.max(0, st.size - st.blocks * 512);
    host = { dir, avail: h.avail, imageGrowth };
    // Writes into unallocated parts of a sparse image take host blocks: a full host makes them fail
    // (and Btrfs then forces the crypt read-only), whatever the crypt itself says is free.
    if (imageGrowth > 0) usable = Math.min(usable, h.avail);
  }
  return { cryptAvail: crypt.avail, cryptTotal: crypt.total, host, usable };
}
