// Recovery of an interrupted rollback (see src/cli/frame/recover.ts). The swap is the point of no return:
// active/ carrying the staging subvolume's UUID means it happened. Before it, the rollback is undone
// (the staging copy deleted, active/ was never touched); after it, the rollback is finished (the replaced
// state kept as the pre-rollback snapshot). Either way a database the rollback stopped is started again.
// Every action checks before it acts, so this may itself be interrupted and run again.
import type { OpenCrypt } from '../../base/crypt/open.js';
import { pgdataPath, stagingPath } from '../../base/crypt/paths.js';
import { isSubvolume } from '../../base/btrfs/probe.js';
import { subvolumeDelete, subvolumeShow } from '../../base/btrfs/subvolume.js';
import { clearJournal, writeJournal, type JournalEntry } from '../../base/crypt/journal.js';
import { startDatabase, serviceOwner } from '../service/control.js';
import { waitForPrimary } from '../service/ready.js';
import { keepReplacedState } from './keep.js';
import { faultPoint } from '../../base/fault.js';
import { showing, type OpContext } from '../../base/context.js';

type RollbackEntry = Extract<JournalEntry, { op: 'rollback' }>;

async function swapHappened(entry: RollbackEntry, crypt: OpenCrypt, ctx: OpContext): Promise<boolean> {
  // The UUID is the fact; the phase is only a fallback. (After a power cut the journal's "swapped" could
  // in theory be durable while the exchange is not; active/'s UUID cannot lie.)
  if (!entry.stagedUuid) return ['swapped', 'kept'].includes(entry.phase); // the UUID is journaled before the swap
  const active = await subvolumeShow(ctx.runner, crypt.paths.active);
  return active.uuid === entry.stagedUuid;
}

export async function recoverRollback(entry: RollbackEntry, crypt: OpenCrypt, ctx: OpContext): Promise<string[]> {
  const actions: string[] = [];
  const staging = stagingPath(crypt.paths.root, entry.staging.replace(/^\.staging-/, ''));
  if (await swapHappened(entry, crypt, ctx)) {
    if (entry.phase !== 'swapped' && entry.phase !== 'kept') {
      entry.phase = 'swapped';
      await writeJournal(crypt.paths, entry);
    }
    await keepReplacedState(entry, crypt, ctx.runner);
    faultPoint('rollback-recover:finished');
    actions.push(`finished the interrupted rollback to ${entry.target}: active/ is the snapshot's state; the replaced state is ${entry.preRollbackName}`);
  } else {
    if (await isSubvolume(staging)) await subvolumeDelete(ctx.runner, staging);
    faultPoint('rollback-recover:undone');
    actions.push(`undid the interrupted rollback to ${entry.target}: active/ is unchanged`);
  }
  const pg = crypt.config.postgres;
  if (entry.wasRunning && pg) {
    const pgdata = pgdataPath(crypt.paths.root, pg.dir);
    try {
      await showing(ctx, 'starting PostgreSQL', () => startDatabase(ctx.runner, pg, pgdata, serviceOwner(crypt)));
      await showing(ctx, 'waiting for PostgreSQL to accept connections', () => waitForPrimary(pg, ctx.env));
      faultPoint('rollback-recover:started');
      actions.push('started PostgreSQL again (it was running before the rollback)');
    } catch (e) {
      // active/ is whole either way; a database that does not come up must not block every command
      // (the undo rollback included): report it and clear the journal.
      actions.push(`PostgreSQL did not come up again (${(e as Error).message}); start it by hand and check its log`);
    }
  }
  await clearJournal(crypt.paths);
  return actions;
}
