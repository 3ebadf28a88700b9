// The options of `run`, checked before anything is touched (pure).
import path from 'node:path';
import { UsageError } from '../../base/errors.js';
import { parseDuration as durationMs } from '../../model/units.js';
import { validateLabel } from '../snapshots/names.js';
import { splitWords } from './words.js';

export type OnFailure = 'rollback' | 'keep';

export interface RunOptions {
  command: string[];
  label: string;
  checks: string[][];
  checkSql: string | null;
  /** COMMAND's time limit; null: none. */
  timeoutMs: number | null;
  /** How long the health checks may keep retrying before they count as failed. */
  healthTimeoutMs: number;
  onFailure: OnFailure;
  /** COMMAND's stdout goes to stderr (under --json stdout holds the one JSON document); set by the command. */
  stdoutToStderr?: boolean;
}

export const DEFAULT_HEALTH_TIMEOUT_MS = 30_000;

/** `90` (seconds) or `90s`, `5m`, `1h`. */
export function parseDuration(flag: string, v: unknown): number {
  const text = String(v);
  const ms = durationMs(text);
  if (ms === undefined) throw new UsageError(`${flag} expects a duration such as 90s, 5m or 1h (or plain seconds), got "${text}"`);
  return ms;
}

export function parseRunOptions(args: string[], opts: Record<string, unknown>): RunOptions {
  if (!args.length || !args[0]) throw new UsageError('run needs a command after --', { hint: 'e.g. lychd-crypt run --check-sql "select true" -- ./migrate.sh' });
  const onFailure = (opts.onFailure as string | undefined) ?? 'rollback';
  if (onFailure !== 'rollback' && onFailure !== 'keep') throw new UsageError(`--on-failure is rollback or keep, not "${onFailure}"`);
  const checks = ((opts.check as string[] | undefined) ?? []).map(splitWords);
  const checkSql = typeof opts.checkSql === 'string' ? opts.checkSql : null;
  if (checkSql !== null && !checkSql.trim()) throw new UsageError('--check-sql needs a query');
  return {
    command: args,
    label: validateLabel(opts.label as string | undefined) ?? path.basename(args[0]),
    checks,
    checkSql,
    timeoutMs: opts.timeout === undefined ? null : parseDuration('--timeout', opts.timeout),
    healthTimeoutMs: opts.healthTimeout === undefined ? DEFAULT_HEALTH_TIMEOUT_MS : parseDuration('--health-timeout', opts.healthTimeout),
    onFailure,
  };
}
