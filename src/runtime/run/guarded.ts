// The guarded change (`lychd-crypt run`): the Ritual's "before" snapshot, COMMAND, its health, and on any
// failure a rollback to the snapshot (the failed state kept as the pre-rollback snapshot). Journaled
// before COMMAND starts, so a crash while it runs, while checks are pending or while it rolls back ends at
// the snapshot all the same (src/runtime/run/recover.ts). Runs under the crypt lock: a guarded run never
// nests on the same crypt.
import { CryptError, RefusedError } from '../../base/errors.js';
import { faultPoint } from '../../base/fault.js';
import type { OpenCrypt } from '../../base/crypt/open.js';
import { pgdataPath } from '../../base/crypt/paths.js';
import { readPostmaster } from '../../base/pg/postmaster.js';
import { clearJournal, readJournal, writeJournal, type JournalEntry } from '../../base/crypt/journal.js';
import type { Operations } from '../operations.js';
import { refuseNested } from '../rollback/run.js';
import { refuseWithoutRoom } from '../space/reserve.js';
import { spaceTargetOf } from '../space/target.js';
import { processStart, RUN_ID_ENV, runChild, type ChildOutcome } from './child.js';
import { checkHealth, type HealthInput, type HealthResult } from './health.js';
import type { RunOptions } from './options.js';
import { rollBackRun } from './rollback-to.js';
import { randomUuid } from '../../base/ids.js';
import { noActivity, type OpContext } from '../../base/context.js';

export type RunEntry = Extract<JournalEntry, { op: 'run' }>;

/** Documented exit statuses of `run` besides COMMAND's own (README, docs/run.md). */
export const RunExit = { checkFailed: 5, timedOut: 124 } as const;

export type RunFailure =
  | { kind: 'command'; exitCode: number; signal: string | null; reason: string }
  | { kind: 'timeout'; reason: string }
  | { kind: 'check'; check: string; reason: string };

export interface RunReport {
  ok: boolean;
  command: string[];
  /** The "before" snapshot: the state the change started from. */
  snapshot: string;
  failure: RunFailure | null;
  /** Rolled back to `snapshot`; the failed state is `preRollback`. */
  rolledBack: boolean;
  preRollback: string | null;
  /** What undoes what happened: the rollback (to the failed state) or, kept, back to before. */
  undo: string | null;
  exitCode: number;
}

function describeOutcome(o: ChildOutcome, timeoutMs: number | null): RunFailure | null {
  if (o.timedOut) return { kind: 'timeout', reason: `it did not finish within ${Math.round((timeoutMs ?? 0) / 1000)}s and was stopped (SIGTERM, then SIGKILL)` };
  if (o.spawnError) return { kind: 'command', exitCode: 127, signal: null, reason: `it could not be started: ${o.spawnError}` };
  if (o.exitCode !== 0) return { kind: 'command', exitCode: o.exitCode, signal: o.signal, reason: o.signal ? `it was killed by ${o.signal}` : `it exited with status ${o.exitCode}` };
  return null;
}

function exitFor(f: RunFailure): number {
  return f.kind === 'command' ? f.exitCode : f.kind === 'timeout' ? RunExit.timedOut : RunExit.checkFailed;
}

/** Everything that would stop the rollback later is refused now, before the snapshot: nothing changed. */
async function refuseBeforeStart(crypt: OpenCrypt, ctx: OpContext, opts: RunOptions, dbRunning: boolean): Promise<void> {
  const pg = crypt.config.postgres;
  if (opts.checkSql !== null && !pg) throw new RefusedError('--check-sql needs the crypt to have PostgreSQL configured; nothing was changed');
  if (opts.onFailure === 'rollback') {
    if (dbRunning && pg?.service.kind === 'none') {
      throw new RefusedError('PostgreSQL is running and postgres.service is none, so a failed change could not be rolled back; nothing was changed', {
        hint: 'Configure postgres.service with init, or run with --on-failure keep (then roll back by hand).',
      });
    }
    await refuseNested(crypt, ctx);
  }
  await refuseWithoutRoom(spaceTargetOf(crypt), 'snapshot');
}

/** The first line of a reason, short enough for a progress line. */
const brief = (reason: string): string => {
  const line = reason.split('\n')[0]!.trim();
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
};

/**
 * The health checks, retried until they pass or the time is up, shown while they run: what is checked, the
 * last failure and the time left — a spinner at a terminal, a line per failed attempt otherwise — so a
 * 30-second retry never looks like a hang.
 */
async function checkingHealth(ctx: OpContext, input: HealthInput): Promise<HealthResult> {
  const what = [input.postgres && input.requirePostgres ? 'PostgreSQL is up' : null, ...input.checks.map((c) => `--check ${c.join(' ')}`), input.checkSql !== null ? '--check-sql' : null].filter(Boolean);
  if (!what.length) return checkHealth(input);
  const a = (ctx.activity ?? noActivity)(`health: ${what.join(', ')}`, { updates: 'lines' });
  const result = await checkHealth({
    ...input,
    onRetry: (f, round, left) => a.update(`health: attempt ${round} failed: ${f.check}: ${brief(f.reason)}; retrying, ${Math.max(1, Math.round(left / 1000))} s left`),
  });
  if (result.ok) a.done(`healthy${result.rounds > 1 ? ` (attempt ${result.rounds})` : ''}`);
  else a.fail(`${result.failed!.check}: ${brief(result.failed!.reason)} (${result.rounds} attempts)`);
  return result;
}

/** ops: the snapshot and rollback to take (with the crypt's hooks around them, from the CLI). */
export async function performGuardedRun(crypt: OpenCrypt, ctx: OpContext, opts: RunOptions, ops: Operations): Promise<RunReport> {
  const pg = crypt.config.postgres;
  const pgdata = pg ? pgdataPath(crypt.paths.root, pg.dir) : null;
  const dbWasRunning = pgdata ? (await readPostmaster(pgdata)).running : false;
  await refuseBeforeStart(crypt, ctx, opts, dbWasRunning);

  const before = await ops.snapshot({ label: opts.label });
  ctx.log.info(`snapshot ${before.name} taken; running ${opts.command.join(' ')}`);
  const entry: RunEntry = {
    op: 'run',
    id: randomUuid(),
    startedAt: new Date().toISOString(),
    snapshot: before.name,
    command: opts.command,
    onFailure: opts.onFailure,
    phase: 'started',
    dbWasRunning,
  };
  await writeJournal(crypt.paths, entry);
  faultPoint('run:journal');

  const env: NodeJS.ProcessEnv = { ...ctx.env, LYCHD_CRYPT_PATH: crypt.shown, LYCHD_SNAPSHOT: before.name, LYCHD_PHASE: 'run', [RUN_ID_ENV]: entry.id };
  const outcome = await runChild(opts.command, {
    env,
    timeoutMs: opts.timeoutMs,
    stdoutToStderr: opts.stdoutToStderr ?? false,
    onStart: async (pid) => {
      faultPoint('run:spawned'); // a crash before the pid is journaled: recovery finds COMMAND by LYCHD_RUN_ID
      entry.pid = pid;
      entry.pidStart = await processStart(pid);
      entry.phase = 'running';
      await writeJournal(crypt.paths, entry);
    },
  });
  let failure = describeOutcome(outcome, opts.timeoutMs);
  if (!failure) {
    entry.phase = 'checking';
    await writeJournal(crypt.paths, entry);
    faultPoint('run:checking');
    const health = await checkingHealth(ctx, { checks: opts.checks, checkSql: opts.checkSql, postgres: pg, requirePostgres: dbWasRunning, env, timeoutMs: opts.healthTimeoutMs });
    if (!health.ok && health.failed) failure = { kind: 'check', check: health.failed.check, reason: health.failed.reason };
  }

  const report: RunReport = { ok: !failure, command: opts.command, snapshot: before.name, failure, rolledBack: false, preRollback: null, undo: null, exitCode: failure ? exitFor(failure) : 0 };
  if (!failure) {
    await clearJournal(crypt.paths);
    report.undo = `lychd-crypt rollback ${before.name}`;
    return report;
  }
  if (opts.onFailure === 'keep') {
    await clearJournal(crypt.paths);
    report.undo = `lychd-crypt rollback ${before.name}`;
    return report;
  }
  const why = failureText(failure);
  ctx.log.info(`the change failed (${why}): rolling back to ${before.name}`);
  // The decision is journaled before the rollback begins: from here on, whatever is interrupted, recovery
  // ends at the before snapshot (the rollback's own entry carries the same intent).
  entry.phase = 'failed';
  entry.failure = why;
  await writeJournal(crypt.paths, entry);
  faultPoint('run:failed');
  const intent = { id: entry.id, command: opts.command, snapshot: before.name, dbWasRunning, outcome: 'failed' as const, failure: why };
  try {
    const r = await rollBackRun(crypt, ctx, intent, ops);
    report.rolledBack = true;
    report.preRollback = r.preRollback;
    report.undo = `lychd-crypt rollback ${r.preRollback}`;
  } catch (e) {
    throw await rollbackFailed(crypt, why, before.name, e);
  }
  return report;
}

/**
 * The rollback after a failure did not complete. While the journal still holds the run (a pre-rollback
 * hook failed, the database could not be stopped …) the failed change is live and the rollback pending:
 * every later command finishes it first. Otherwise the rollback is done and only what followed failed.
 */
async function rollbackFailed(crypt: OpenCrypt, why: string, snapshot: string, e: unknown): Promise<CryptError> {
  const pending = await readJournal(crypt.paths).catch(() => undefined);
  if (pending) {
    return new CryptError(`the change failed (${why}) and its rollback to ${snapshot} did not complete: ${(e as Error).message}`, {
      hint: 'The failed change is still in place and its rollback stays pending: the next lychd-crypt command that changes the crypt (or `lychd-crypt repair`) finishes it, once the cause above is fixed.',
      cause: e,
    });
  }
  return new CryptError(`the change failed (${why}); ${(e as Error).message}`, { hint: (e as CryptError).hint, cause: e });
}

export function failureText(f: RunFailure): string {
  return f.kind === 'check' ? `${f.check} failed: ${f.reason}` : `the command ${f.reason.replace(/^it /, '')}`;
}

/** The summary for people: what failed, where the failed state is, how to undo. */
export function summarizeRun(r: RunReport, crypt: string): string {
  if (!r.failure) return [`the change succeeded and passed its checks`, `the state before it is snapshot ${r.snapshot}; go back with: ${r.undo}`].join('\n');
  const lines = [`the change FAILED: ${failureText(r.failure)}`];
  if (r.rolledBack) {
    lines.push(`${crypt} was rolled back to ${r.snapshot} (the state before the change)`);
    lines.push(`the failed state is kept as snapshot ${r.preRollback}; inspect or restore it with: ${r.undo}`);
  } else {
    lines.push(`the failed state was left in place (--on-failure keep); go back to before the change with: ${r.undo} --yes`);
  }
  lines.push(`exit status ${r.exitCode}${r.failure.kind === 'check' ? ' (a check failed)' : r.failure.kind === 'timeout' ? ' (time limit)' : " (the command's own)"}`);
  return lines.join('\n');
}
