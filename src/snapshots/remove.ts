// Deleting snapshots (for delete and prune): the subvolume first, then its metadata. A crash in between
// leaves metadata without a subvolume, which list ignores and repair removes; the reverse order would
// briefly make a listed snapshot look incomplete.
import { unlink } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../core/errors.js';
import { faultPoint } from '../core/fault.js';
import { fsyncDir } from '../core/fs.js';
import type { Runner } from '../core/runner.js';
import type { CryptPaths } from '../crypt/paths.js';
import { isSubvolume } from '../btrfs/probe.js';
import { subvolumeDelete } from '../btrfs/subvolume.js';
import { metaPath, readSnapshotDir, snapshotPath } from './meta.js';
import { isPlausibleName } from './names.js';

export interface Resolved {
  name: string;
  /** The subvolume exists (false: only orphaned metadata is left). */
  subvolume: boolean;
  meta: boolean;
}

/**
 * Checks every name before anything is deleted: unknown names (or anything that is not a snapshot of
 * this crypt, such as `active` or a path) are a usage error and nothing is touched.
 */
export async function resolveSnapshots(paths: CryptPaths, names: string[]): Promise<Resolved[]> {
  const dir = await readSnapshotDir(paths);
  const complete = new Set(dir.complete.map((m) => m.name));
  const incomplete = new Set(dir.incomplete);
  const orphan = new Set(dir.orphanMeta);
  for (const n of dir.unreadableMeta ?? []) complete.add(n); // damaged metadata: still deletable by name
  const unknown: string[] = [];
  const out: Resolved[] = [];
  for (const name of [...new Set(names)]) {
    if (!isPlausibleName(name) || !(complete.has(name) || incomplete.has(name) || orphan.has(name))) {
      unknown.push(name);
      continue;
    }
    const sub = !orphan.has(name);
    if (sub && !(await isSubvolume(snapshotPath(paths, name)))) {
      unknown.push(`${name} (a plain directory, not a snapshot subvolume)`);
      continue;
    }
    out.push({ name, subvolume: sub, meta: !incomplete.has(name) });
  }
  if (unknown.length) {
    throw new UsageError(`no such snapshot: ${unknown.join(', ')}. Nothing was deleted.`, {
      hint: 'See `lychd-crypt list` for the names.',
    });
  }
  return out;
}

export async function removeSnapshot(paths: CryptPaths, runner: Runner, s: Resolved): Promise<void> {
  const dir = snapshotPath(paths, s.name);
  // Defence in depth: only ever a direct child of snapshots/.
  if (path.dirname(dir) !== paths.snapshots) throw new Error(`refusing to delete ${dir}`);
  if (s.subvolume) await subvolumeDelete(runner, dir);
  faultPoint('delete:after-subvolume');
  if (s.meta) {
    await unlink(metaPath(paths, s.name)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    await fsyncDir(paths.snapshots);
  }
}
