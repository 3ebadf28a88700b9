// The crypt's side of a replication: its complete snapshots with the origin UUID that names each on every
// target (a restored snapshot keeps the original's: its received UUID), read through the crypt's verified
// descriptor. Root reads a rootless crypt's metadata too (its owner's files), as every root read does:
// without following links, size-bounded, through the schema.
import type { OpenCrypt } from '../../base/crypt/open.js';
import { closeDir, openDir, originUuid, subvolInfo, type SubvolInfo } from '../../base/sys/fd.js';
import { readSnapshotDir, snapshotPath, type SnapshotMeta } from '../snapshots/meta.js';
import type { LocalSnapshot } from './plan.js';

export interface LocalFacts extends LocalSnapshot {
  meta: SnapshotMeta;
  info: SubvolInfo;
  /** The subvolume, through the crypt's descriptor (what btrfs send is given). */
  path: string;
}

/** Whose metadata files root accepts on this crypt. */
export const metaOwners = (crypt: OpenCrypt): number[] => [...new Set([0, crypt.config.crypt.uid])];

export async function readLocalSnapshots(crypt: OpenCrypt): Promise<LocalFacts[]> {
  const { complete } = await readSnapshotDir(crypt.paths, { owners: metaOwners(crypt) });
  const out: LocalFacts[] = [];
  for (const meta of complete) {
    const p = snapshotPath(crypt.paths, meta.name);
    const d = await openDir(p).catch(() => null);
    if (!d) continue;
    try {
      const info = await subvolInfo(d).catch(() => null);
      // Only a read-only snapshot is sent: btrfs send refuses anything else, and a writable one may be changing.
      if (!info?.readonly) continue;
      out.push({
        name: meta.name,
        createdAt: meta.createdAt,
        originUuid: originUuid(info),
        pinned: meta.pinned === true,
        preRollback: meta.origin.kind === 'pre-rollback',
        meta,
        info,
        path: p,
      });
    } finally {
      await closeDir(d);
    }
  }
  return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
}
