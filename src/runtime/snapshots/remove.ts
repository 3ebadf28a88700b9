// Deleting snapshots (for delete and prune): the subvolume first, then its metadata (the reverse order
// would briefly make a listed snapshot look incomplete). The whole removal is journaled (op delete): a crash
// in between — metadata left without its subvolume, or names not reached yet — is finished by the next
// mutating command (recoverDelete), so no half-deleted snapshot outlives it.
import { unlink } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../../base/errors.js';
import { faultPoint } from '../../base/fault.js';
import { clearJournal, withJournal, type JournalEntry } from '../../base/crypt/journal.js';
import { randomUuid } from '../../base/ids.js';
import type { OpContext } from '../../base/context.js';
import { exists, fsyncDir } from '../../base/sys/fs.js';
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
  faultPoint('delete:after-metadata');
}

type DeleteEntry = Extract<JournalEntry, { op: 'delete' }>;

/** Who removes snapshots: for the journal entry and the recovery's message. */
export type RemovedBy = 'delete' | 'prune' | 'scheduled';

/**
 * Removes `targets` in order under one journal entry; `each` reports every removal (a failure stops there
 * and is thrown: the caller names what was already removed).
 */
export async function removeSnapshots(paths: CryptPaths, runner: Runner, targets: readonly Resolved[], by: RemovedBy, each: (name: string) => void = () => {}): Promise<void> {
  if (!targets.length) return;
  const entry: DeleteEntry = { op: 'delete', id: randomUuid(), startedAt: new Date().toISOString(), phase: 'started', by, names: targets.map((t) => t.name) };
  await withJournal(paths, entry, async () => {
    faultPoint('delete:journal');
    for (const t of targets) {
      await removeSnapshot(paths, runner, t);
      each(t.name);
    }
  });
}

/**
 * Recovery of an interrupted removal (src/cli/frame/recover.ts): every named snapshot still there goes,
 * subvolume then metadata — the removal was decided (consent given, or the retention policy's), and a
 * snapshot half removed (metadata without its subvolume) must not stay.
 */
export async function recoverDelete(entry: DeleteEntry, crypt: { paths: CryptPaths }, ctx: OpContext): Promise<string[]> {
  const { paths } = crypt;
  const removed: string[] = [];
  // A journal is ours, but a name that could escape snapshots/ is never acted on.
  for (const name of entry.names.filter(isSnapshotName)) {
    const subvolume = await isSubvolume(snapshotPath(paths, name));
    const meta = await exists(metaPath(paths, name));
    if (!subvolume && !meta) continue;
    await removeSnapshot(paths, ctx.runner, { name, subvolume, meta });
    removed.push(name);
  }
  await clearJournal(paths);
  const what = `the interrupted ${entry.by === 'scheduled' ? 'pruning of the scheduled run' : entry.by} of ${entry.names.join(', ')}`;
  return [removed.length ? `finished ${what}: removed ${removed.join(', ')}` : `${what} had removed everything; cleared its journal entry`];
}
