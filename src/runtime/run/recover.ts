// Recovery of an interrupted guarded run (see src/cli/frame/recover.ts): lychd-crypt or the machine died
// while COMMAND ran, its checks were pending, or its rollback was under way. By the journaled policy
// (default: rollback) the crypt goes back to the "before" snapshot — unless COMMAND (or a process it
// started) is still running: then the change is not over, and every command waits (exit 4) until it ends
// or is stopped. A run whose outcome was not known yet is rolled back as a failed one is (and says so); a
// rollback the run had begun (op run-rollback) is finished after its swap, or started again before it —
// never undone, which would leave the failed change in place.
import { BusyError } from '../../base/errors.js';
import type { OpenCrypt } from '../../base/crypt/open.js';
import { isSubvolume } from '../../base/btrfs/probe.js';
import { clearJournal, type JournalEntry } from '../../base/crypt/journal.js';
import { snapshotPath } from '../snapshots/meta.js';
import { finishSwapped, removeStaging, restartDatabase, swapHappened } from '../rollback/recover.js';
import { readPostmaster } from '../../base/pg/postmaster.js';
import { pgdataPath } from '../../base/crypt/paths.js';
import { processesOfRun, stillRunning } from './child.js';
import type { RunEntry } from './guarded.js';
import { rollBackRun } from './rollback-to.js';
import type { Operations } from '../operations.js';
import type { OpContext } from '../../base/context.js';
import type { RunIntent } from '../../model/journal.js';

type RunRollbackEntry = Extract<JournalEntry, { op: 'run-rollback' }>;

const shownOf = (intent: Pick<RunIntent, 'command'>) => intent.command.join(' ');

/** Back to the "before" snapshot, unless it is gone; one line saying what was done. */
async function backToBefore(intent: RunIntent, crypt: OpenCrypt, ctx: OpContext, ops: Pick<Operations, 'rollback'>, said: string): Promise<string> {
  if (!(await isSubvolume(snapshotPath(crypt.paths, intent.snapshot)))) {
    await clearJournal(crypt.paths);
    return `${said}, but its snapshot ${intent.snapshot} is gone: nothing was rolled back`;
  }
  const r = await rollBackRun(crypt, ctx, intent, ops);
  const known = intent.outcome === 'failed' ? 'the failed state' : 'the interrupted state';
  return `${said}: rolled back to ${intent.snapshot}; ${known} is snapshot ${r.preRollback} (undo with: lychd-crypt rollback ${r.preRollback})${
    intent.outcome === 'unknown' ? '; its outcome was not known, so it was treated as a failure' : ''
  }`;
}

export async function recoverRun(entry: RunEntry, crypt: OpenCrypt, ctx: OpContext, ops: Pick<Operations, 'rollback'>): Promise<string[]> {
  const shown = shownOf(entry);
  // COMMAND itself (its journaled pid), or — also when lychd-crypt died before that pid was journaled —
  // anything carrying the run's id in its environment: COMMAND or what it started.
  const alive = entry.pid && entry.pidStart && (await stillRunning(entry.pid, entry.pidStart)) ? [entry.pid] : await processesOfRun(entry.id);
  if (alive.length) {
    const pids = alive.join(' ');
    throw new BusyError(`the command of an interrupted guarded run, \`${shown}\` (pid ${pids}), is still running`, {
      hint: `Wait for it to end, or stop it (kill ${pids}); the next command then rolls the crypt back to ${entry.snapshot}.`,
    });
  }
  if (entry.onFailure === 'keep') {
    await clearJournal(crypt.paths);
    return [`the guarded run of \`${shown}\` was interrupted; its changes are kept (--on-failure keep); go back with: lychd-crypt rollback ${entry.snapshot} --yes`];
  }
  const failed = entry.phase === 'failed';
  const intent: RunIntent = {
    id: entry.id,
    command: entry.command,
    snapshot: entry.snapshot,
    dbWasRunning: entry.dbWasRunning,
    outcome: failed ? 'failed' : 'unknown',
    failure: entry.failure ?? null,
  };
  const said = failed
    ? `the guarded run of \`${shown}\` had failed (${entry.failure ?? 'no reason recorded'}) and was interrupted before its rollback`
    : `the guarded run of \`${shown}\` was interrupted (phase ${entry.phase})`;
  return [await backToBefore(intent, crypt, ctx, ops, said)];
}

export async function recoverRunRollback(entry: RunRollbackEntry, crypt: OpenCrypt, ctx: OpContext, ops: Pick<Operations, 'rollback'>): Promise<string[]> {
  const run = entry.run;
  const what = `the rollback of the ${run.outcome === 'failed' ? 'failed' : 'interrupted'} guarded run of \`${shownOf(run)}\` to ${entry.target}`;
  if (await swapHappened(entry, crypt, ctx)) {
    await finishSwapped(entry, crypt, ctx);
    const actions = [`finished ${what}: active/ is the state before the change; the ${run.outcome === 'failed' ? 'failed' : 'interrupted'} state is snapshot ${entry.preRollbackName} (undo with: lychd-crypt rollback ${entry.preRollbackName})`];
    const pg = crypt.config.postgres;
    if (pg && (entry.wasRunning || run.dbWasRunning) && !(await readPostmaster(pgdataPath(crypt.paths.root, pg.dir))).running) {
      actions.push(await restartDatabase(crypt, ctx, 'it was running before the change'));
    }
    await clearJournal(crypt.paths);
    return actions;
  }
  // Before the swap active/ still holds the failed change: the rollback is started again from the top
  // (its new entry carries the same intent, so a crash in it is recovered the same way).
  await removeStaging(entry, crypt, ctx);
  return [await backToBefore(run, crypt, ctx, ops, `${what} was interrupted before its swap and was started again`)];
}
