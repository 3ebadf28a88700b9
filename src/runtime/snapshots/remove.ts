// Deleting snapshots (for delete and prune): the subvolume first, then its metadata. A crash in between
// leaves metadata without a subvolume, which list ignores and repair removes; the reverse order would
// briefly make a listed snapshot look incomplete.
import { unlink } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../../base/errors.js';
import { faultPoint } from '../../base/fault.js';
import { fsyncDir } from '../../base/sys/fs.js';
import type { Runner } from '../../base/runner.js';
import type { CryptPaths } from '../../base/crypt/paths.js';
import { isSubvolume } from '../../base/btrfs/probe.js';
import { subvolumeDelete } from '../../base/btrfs/subvolume.js';
import { metaPath, readSnapshotDir, snapshotPath } from './meta.js';
import { isSnapshotName } from './names.js';
import { resolveSnapshotArgs } from './lookup.js';
import { NAMING_HINT } from './resolve.js';

export interface Resolved {
  name: string;
  /** The subvolume exists (false: only orphaned metadata is left). */
  subvolume: boolean;
  meta: boolean;
}

/**
 * Checks every name before anything is deleted: a name that is unknown or ambiguous (a prefix, a label,
 * latest or previous resolve as in every command: src/runtime/snapshots/resolve.ts), or anything that is not a
 * snapshot subvolume of this crypt (such as `active` or a path), is a usage error and nothing is touched.
 */
export async function resolveSnapshots(paths: CryptPaths, names: string[]): Promise<Resolved[]> {
  const resolved = await resolveSnapshotArgs(paths, names, { anyState: true });
  const dir = await readSnapshotDir(paths);
  const incomplete = new Set(dir.incomplete);
  const orphan = new Set(dir.orphanMeta);
  const notSubvolume: string[] = [];
  const out: Resolved[] = [];
  for (const name of resolved) {
    const sub = !orphan.has(name);
    if (!isSnapshotName(name) || (sub && !(await isSubvolume(snapshotPath(paths, name))))) {
      notSubvolume.push(name);
      continue;
    }
    out.push({ name, subvolume: sub, meta: !incomplete.has(name) });
  }
  if (notSubvolume.length) {
    throw new UsageError(notSubvolume.map((n) => `no such snapshot: ${n} (a plain directory, not a snapshot subvolume)`).join('\n'), {
      hint: `Nothing was changed. ${NAMING_HINT}`,
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
