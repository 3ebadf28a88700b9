// Prune: read the snapshots, let the pure policy decide, delete what it rejects (subvolume, then metadata).
// Used by `prune` and by the scheduled run; callers hold the crypt lock for a real run.
import { CryptError } from '../../base/errors.js';
import type { Runner } from '../../base/runner.js';
import type { CryptPaths } from '../../base/crypt/paths.js';
import { readSnapshotDir, type SnapshotMeta } from '../snapshots/meta.js';
import { removeSnapshots, type RemovedBy } from '../snapshots/remove.js';
import { applyRetention, type RetentionDecision, type RetentionItem, type RetentionPolicy } from './policy.js';

export function retentionItem(m: SnapshotMeta): RetentionItem {
  return { name: m.name, createdAt: m.createdAt, pinned: m.pinned === true, preRollback: m.origin.kind === 'pre-rollback' };
}

export async function decideRetention(paths: CryptPaths, policy: RetentionPolicy, now: Date): Promise<RetentionDecision[]> {
  const { complete } = await readSnapshotDir(paths);
  return applyRetention(complete.map(retentionItem), policy, now);
}

/** Deletes the named snapshots in order (one journal entry); a failure names what was already deleted. */
export async function deleteSnapshots(paths: CryptPaths, runner: Runner, names: readonly string[], by: RemovedBy = 'prune'): Promise<string[]> {
  const done: string[] = [];
  try {
    await removeSnapshots(paths, runner, names.map((name) => ({ name, subvolume: true, meta: true })), by, (name) => done.push(name));
  } catch (e) {
    throw new CryptError(`pruning ${names[done.length] ?? ''} failed: ${(e as Error).message}`, {
      cause: e,
      hint: `${done.length ? `Already deleted: ${done.join(', ')}. ` : ''}The kept snapshots and active/ are untouched.`,
    });
  }
  return done;
}

/** One line per snapshot, newest first: `keep    NAME  daily 2026-11-23, weekly 2026-W48` or `remove  NAME`. */
export function renderDecisions(decisions: readonly RetentionDecision[], dryRun: boolean): string {
  if (!decisions.length) return 'no snapshots';
  const gone = dryRun ? 'remove' : 'removed';
  const width = Math.max(...decisions.map((d) => d.name.length));
  const lines = decisions.map((d) => (d.action === 'keep' ? `keep     ${d.name.padEnd(width)}  ${d.reason}` : `${gone.padEnd(7)}  ${d.name}`));
  const n = decisions.filter((d) => d.action === 'delete').length;
  lines.push(`${dryRun ? 'would remove' : 'removed'} ${n} of ${decisions.length} snapshot(s)`);
  return lines.join('\n');
}
