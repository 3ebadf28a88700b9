// Recovery of an interrupted rollback (see src/cli/frame/recover.ts). The swap is the point of no return:
// active/ carrying the staging subvolume's UUID means it happened. Before it, the rollback is undone
// (the staging copy deleted, active/ was never touched); after it, the rollback is finished (the replaced
// state kept as the pre-rollback snapshot). Either way a database the rollback stopped is started again.
// Every action checks before it acts, so this may itself be interrupted and run again. A guarded run's
// rollback (op run-rollback) shares the finishing half; before the swap it is started again instead
// (src/runtime/run/recover.ts).
import type { OpenCrypt } from '../../base/crypt/open.js';
import { pgdataPath, stagingPath } from '../../base/crypt/paths.js';
import { isSubvolume } from '../../base/btrfs/probe.js';
import { subvolumeDelete, subvolumeShow } from '../../base/btrfs/subvolume.js';
import { clearJournal, writeJournal, type JournalEntry } from '../../base/crypt/journal.js';
import { startDatabase, serviceOwner } from '../service/control.js';
import { waitForPrimary } from '../service/ready.js';
import { dropOldWal, keepReplacedState } from './keep.js';
import { linkedGen, removeGeneration } from '../../base/wal/generation.js';
import { genName } from '../../base/wal/placement.js';
import { faultPoint } from '../../base/fault.js';
import { showing, type OpContext } from '../../base/context.js';
import type { RollbackEntry } from './run.js';

export async function swapHappened(entry: RollbackEntry, crypt: OpenCrypt, ctx: OpContext): Promise<boolean> {
  // The UUID is the fact; the phase is only a fallback. (After a power cut the journal's "swapped" could
  // in theory be durable while the exchange is not; active/'s UUID cannot lie.)
  if (!entry.stagedUuid) return ['swapped', 'kept'].includes(entry.phase); // the UUID is journaled before the swap
  const active = await subvolumeShow(ctx.runner, crypt.paths.active);
  return active.uuid === entry.stagedUuid;
}

/** After the swap: the replaced state becomes the pre-rollback snapshot (idempotent). */
export async function finishSwapped(entry: RollbackEntry, crypt: OpenCrypt, ctx: OpContext): Promise<void> {
  if (entry.phase !== 'swapped' && entry.phase !== 'kept') {
    entry.phase = 'swapped';
    await writeJournal(crypt.paths, entry);
  }
  await keepReplacedState(entry, crypt, ctx.runner);
  await dropOldWal(entry, crypt);
  faultPoint('rollback-recover:finished');
}

/** Before the swap: the staging copy goes (active/ was never touched). */
export async function removeStaging(entry: RollbackEntry, crypt: OpenCrypt, ctx: OpContext): Promise<void> {
  const staging = stagingPath(crypt.paths.root, entry.staging.replace(/^\.staging-/, ''));
  if (await isSubvolume(staging)) await subvolumeDelete(ctx.runner, staging);
  // The restored state's WAL generation, if the fill had begun: never the one active/ links to.
  const pg = crypt.config.postgres;
  if (pg?.walDir && entry.stagedUuid) {
    const gen = genName(entry.stagedUuid);
    if ((await linkedGen(crypt.paths.active, pg.dir, pg.walDir).catch(() => null)) !== gen) await removeGeneration(pg.walDir, gen);
  }
}

/** Starts the database a rollback stopped; a failure is reported, not thrown (active/ is whole either way). */
export async function restartDatabase(crypt: OpenCrypt, ctx: OpContext, why: string): Promise<string> {
  const pg = crypt.config.postgres!;
  try {
    await showing(ctx, 'starting PostgreSQL', () => startDatabase(ctx.runner, pg, pgdataPath(crypt.paths.root, pg.dir), serviceOwner(crypt)));
    await showing(ctx, 'waiting for PostgreSQL to accept connections', () => waitForPrimary(pg, ctx.env));
    faultPoint('rollback-recover:started');
    return `started PostgreSQL again (${why})`;
  } catch (e) {
    // A database that does not come up must not block every command (the undo rollback included).
    return `PostgreSQL did not come up again (${(e as Error).message}); start it by hand and check its log`;
  }
}

export async function recoverRollback(entry: Extract<JournalEntry, { op: 'rollback' }>, crypt: OpenCrypt, ctx: OpContext): Promise<string[]> {
  const actions: string[] = [];
  if (await swapHappened(entry, crypt, ctx)) {
    await finishSwapped(entry, crypt, ctx);
    actions.push(`finished the interrupted rollback to ${entry.target}: active/ is the snapshot's state; the replaced state is ${entry.preRollbackName}`);
  } else {
    await removeStaging(entry, crypt, ctx);
    faultPoint('rollback-recover:undone');
    actions.push(`undid the interrupted rollback to ${entry.target}: active/ is unchanged`);
  }
  if (entry.wasRunning && crypt.config.postgres) actions.push(await restartDatabase(crypt, ctx, 'it was running before the rollback'));
  await clearJournal(crypt.paths);
  return actions;
}
