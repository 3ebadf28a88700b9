// The snapshot names a user typed, resolved against the crypt's snapshots/ (src/runtime/snapshots/resolve.ts).
import type { CryptPaths } from '../../base/crypt/paths.js';
import { readSnapshotDir } from './meta.js';
import { requireResolved, resolveSnapshotName } from './resolve.js';

/**
 * Each input as a snapshot's name, in order; a UsageError (exit 2) naming every one that is unknown or
 * ambiguous. `anyState`: incomplete snapshots, orphaned or unreadable metadata also resolve, by full name.
 */
export async function resolveSnapshotArgs(paths: CryptPaths, inputs: readonly string[], opts: { anyState?: boolean } = {}): Promise<string[]> {
  const dir = await readSnapshotDir(paths);
  const exact = opts.anyState ? [...dir.incomplete, ...dir.orphanMeta, ...(dir.unreadableMeta ?? [])] : [];
  return requireResolved(inputs.map((i) => resolveSnapshotName(i, dir.complete, exact)));
}

/** One name (see resolveSnapshotArgs). */
export async function resolveSnapshotArg(paths: CryptPaths, input: string): Promise<string> {
  return (await resolveSnapshotArgs(paths, [input]))[0]!;
}
