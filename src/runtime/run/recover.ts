// Recovery of an interrupted guarded run (see src/cli/frame/recover.ts): lychd-crypt or the machine died
// while COMMAND ran or its checks were pending. By the journaled policy (default: rollback) the crypt
// goes back to the "before" snapshot — unless COMMAND (or a process it started) is still running: then
// the change is not over, and every command waits (exit 4) until it ends or is stopped.
import { BusyError } from '../../base/errors.js';
import type { OpenCrypt } from '../../base/crypt/open.js';
import { isSubvolume } from '../../base/btrfs/probe.js';
import { clearJournal } from '../../base/crypt/journal.js';
import { snapshotPath } from '../snapshots/meta.js';
import { processesOfRun, stillRunning } from './child.js';
import type { RunEntry } from './guarded.js';
import { rollBackRun } from './rollback-to.js';
import type { Operations } from '../operations.js';
import type { OpContext } from '../../base/context.js';

export async function recoverRun(entry: RunEntry, crypt: OpenCrypt, ctx: OpContext, ops: Pick<Operations, 'rollback'>): Promise<string[]> {
  const shown = entry.command.join(' ');
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
  if (!(await isSubvolume(snapshotPath(crypt.paths, entry.snapshot)))) {
    await clearJournal(crypt.paths);
    return [`the guarded run of \`${shown}\` was interrupted, but its snapshot ${entry.snapshot} is gone: nothing was rolled back`];
  }
  const r = await rollBackRun(crypt, ctx, entry.snapshot, entry.dbWasRunning, ops);
  return [
    `the guarded run of \`${shown}\` was interrupted (phase ${entry.phase}): rolled back to ${entry.snapshot}; the interrupted state is snapshot ${r.preRollback} (undo with: lychd-crypt rollback ${r.preRollback})`,
  ];
}
