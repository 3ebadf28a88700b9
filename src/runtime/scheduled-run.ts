// `snapshot --scheduled`, what the timer runs, under the crypt lock:
//   1. below the free-space floor: prune by the policy, then the oldest unprotected snapshots, one at a
//      time, measuring again after each, until the crypt is above the floor;
//   2. still below: skip the snapshot and fail (exit 1) with the reason — a snapshot never fills the crypt
//      (PostgreSQL PANICs when its disk is full);
//   3. snapshot (label "scheduled"), then prune by the policy;
//   4. record the run for status and the Prometheus file.
import { approxSize } from '../model/units.js';
import { CryptError } from '../base/errors.js';
import type { Runner } from '../base/runner.js';
import type { OpenCrypt } from '../base/crypt/open.js';
import { formatFloor } from '../model/settings.js';
import { floorCandidates } from './retention/floor.js';
import { applyRetention, type RetentionPolicy, toPolicy } from './retention/policy.js';
import { decideRetention, deleteSnapshots, retentionItem } from './retention/prune.js';
import type { Operations } from './operations.js';
import { readSnapshotDir, type SnapshotMeta } from './snapshots/meta.js';
import { recordRun } from './status/record.js';
import { floorBytes, measureSpace } from './status/space.js';
import type { OpContext } from '../base/context.js';

export interface ScheduledResult {
  snapshot: SnapshotMeta;
  /** Removed to get above the floor, before the snapshot. */
  floorPruned: string[];
  /** Removed by the policy after the snapshot. */
  pruned: string[];
}

/** Btrfs frees a deleted subvolume's space in the background: wait for it before measuring again. */
async function settle(runner: Runner, crypt: OpenCrypt): Promise<void> {
  await runner.run(['btrfs', 'subvolume', 'sync', crypt.paths.snapshots], { allowFailure: true });
  await runner.run(['btrfs', 'filesystem', 'sync', crypt.paths.root], { allowFailure: true });
}

async function prunePolicy(crypt: OpenCrypt, ctx: OpContext, policy: RetentionPolicy | null): Promise<string[]> {
  if (!policy) return [];
  const decisions = await decideRetention(crypt.paths, policy, new Date());
  return deleteSnapshots(crypt.paths, ctx.runner, decisions.filter((d) => d.action === 'delete').map((d) => d.name), 'scheduled');
}

export async function runScheduledSnapshot(crypt: OpenCrypt, ctx: OpContext, ops: Pick<Operations, 'snapshot'>): Promise<ScheduledResult> {
  const started = Date.now();
  const { config, paths } = crypt;
  const policy = config.retention ? toPolicy(config.retention) : null;
  const minFree = config.space?.minFree ?? null;
  const floorPruned: string[] = [];
  try {
    if (minFree) {
      let space = await measureSpace(paths.root, config);
      const floor = floorBytes(minFree, space.sizeBytes);
      if (space.freeBytes < floor) {
        ctx.log.info(`free space ${approxSize(space.freeBytes)} is below the floor ${formatFloor(minFree)} (${approxSize(floor)}): pruning`);
        floorPruned.push(...(await prunePolicy(crypt, ctx, policy)));
        await settle(ctx.runner, crypt);
        space = await measureSpace(paths.root, config);
        // Beyond the policy: the oldest unprotected snapshot, one at a time, measured after each.
        while (space.freeBytes < floor) {
          const { complete } = await readSnapshotDir(paths);
          const next = floorCandidates(applyRetention(complete.map(retentionItem), policy ?? {}, new Date()))[0];
          if (!next) break;
          await deleteSnapshots(paths, ctx.runner, [next], 'scheduled');
          floorPruned.push(next);
          ctx.log.info(`floor: removed ${next}`);
          await settle(ctx.runner, crypt);
          space = await measureSpace(paths.root, config);
        }
        if (space.freeBytes < floor) {
          throw new CryptError(
            `skipped the scheduled snapshot: free space ${approxSize(space.freeBytes)} is below the floor ${formatFloor(minFree)} (${approxSize(floor)}) even after pruning${floorPruned.length ? ` ${floorPruned.length} snapshot(s)` : ''}`,
            { hint: 'Nothing else was changed and PostgreSQL keeps running. Unpin or delete snapshots, remove data, or grow the crypt (loopback.size).' },
          );
        }
      }
    }
    const snapshot = await ops.snapshot({ label: 'scheduled' });
    const pruned = await prunePolicy(crypt, ctx, policy);
    const summary = `snapshot ${snapshot.name}; removed ${floorPruned.length + pruned.length} snapshot(s)${floorPruned.length ? ` (${floorPruned.length} for the free-space floor)` : ''}`;
    await recordRun(paths, 'scheduled', { at: new Date().toISOString(), ok: true, durationMs: Date.now() - started, summary, detail: { snapshot: snapshot.name, floorPruned, pruned } });
    return { snapshot, floorPruned, pruned };
  } catch (e) {
    await recordRun(paths, 'scheduled', { at: new Date().toISOString(), ok: false, durationMs: Date.now() - started, summary: (e as Error).message.split('\n')[0]!, detail: { floorPruned } }).catch(() => {});
    throw e;
  }
}

/** For a manual snapshot: a warning line when the crypt is below its floor (the snapshot is still taken). */
export async function floorWarning(crypt: OpenCrypt): Promise<string | null> {
  const minFree = crypt.config.space?.minFree;
  if (!minFree) return null;
  const space = await measureSpace(crypt.paths.root, crypt.config);
  const floor = floorBytes(minFree, space.sizeBytes);
  if (space.freeBytes >= floor) return null;
  return `free space ${approxSize(space.freeBytes)} is below the floor ${formatFloor(minFree)} (${approxSize(floor)}); prune (\`lychd-crypt prune --dry-run\`) or grow the crypt`;
}
