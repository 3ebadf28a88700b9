// Pins and labels live in the snapshot's metadata file, rewritten atomically (readers see the old file or
// the new one). Callers hold the crypt lock, so two edits cannot lose each other's change.
import { UsageError } from '../../base/errors.js';
import type { CryptPaths } from '../../base/crypt/paths.js';
import { readMeta, writeMeta, type SnapshotMeta } from './meta.js';
import { isSnapshotName } from './names.js';
import { NAMING_HINT } from './resolve.js';

export async function updateMeta(paths: CryptPaths, name: string, change: (m: SnapshotMeta) => SnapshotMeta): Promise<SnapshotMeta> {
  const meta = isSnapshotName(name) ? await readMeta(paths, name).catch(() => undefined) : undefined;
  if (!meta || meta.name !== name) throw new UsageError(`no such snapshot: ${name}`, { hint: `Nothing was changed. ${NAMING_HINT}` });
  const next = change(meta);
  await writeMeta(paths, next);
  return next;
}

export function setPinned(paths: CryptPaths, name: string, pinned: boolean): Promise<SnapshotMeta> {
  return updateMeta(paths, name, (m) => {
    const { pinned: _old, ...rest } = m;
    return pinned ? { ...rest, pinned: true } : rest;
  });
}

/** The label only: the snapshot's name (its directory) never changes, so scripts holding it keep working. */
export function setLabel(paths: CryptPaths, name: string, label: string | null): Promise<SnapshotMeta> {
  return updateMeta(paths, name, (m) => ({ ...m, label }));
}
