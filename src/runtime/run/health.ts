// The health of the changed crypt after COMMAND succeeded: PostgreSQL up again (when it was up before),
// each --check argv exiting 0, --check-sql returning true through the crypt's connection. A change often
// restarts things, so the whole round is retried until it passes or the health time limit is spent.
import { setTimeout as sleep } from 'node:timers/promises';
import type { PostgresConfig } from '../../model/config.js';
import { connectPostgres } from '../../base/pg/connect.js';

export interface HealthInput {
  checks: string[][];
  checkSql: string | null;
  /** Connect and `select 1` too: the database was running before the change. */
  postgres: PostgresConfig | null;
  requirePostgres: boolean;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Pause between rounds. */
  intervalMs?: number;
  /** A round failed and another follows: what failed, the round, and the time left (for progress). */
  onRetry?: (failed: NonNullable<HealthResult['failed']>, round: number, msLeft: number) => void;
}

export interface HealthResult {
  ok: boolean;
  rounds: number;
  /** The check that failed in the last round and why; null when healthy. */
  failed: { check: string; reason: string } | null;
}

const OUTPUT_TAIL = 2_000;

/** One --check: exit 0 within what is left of the time limit (killed after it). */
async function runCheck(argv: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string | null> {
  // Loaded here, not at start: `snapshot` shares this module and starts no process.
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    const [file, ...args] = argv;
    const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'], env, timeout: Math.max(timeoutMs, 1000), killSignal: 'SIGKILL' });
    let out = '';
    const keep = (d: Buffer): void => {
      out = (out + String(d)).slice(-OUTPUT_TAIL);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let error: string | null = null;
    child.on('error', (e) => (error = e.message));
    child.on('close', (code, signal) => {
      if (error) resolve(error);
      else if (code === 0) resolve(null);
      else resolve(`${code === null ? `killed by ${signal}` : `exit ${code}`}${out.trim() ? `: ${out.trim()}` : ''}`);
    });
  });
}

async function runSql(pg: PostgresConfig, sql: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string | null> {
  let client;
  try {
    client = await connectPostgres(pg, {
      env,
      applicationName: 'lychd-crypt run',
      connectTimeoutMs: Math.max(Math.min(timeoutMs, 10_000), 1000),
      settings: { statement_timeout: String(Math.max(timeoutMs, 1000)) },
    });
    const r = await client.query({ text: sql, rowMode: 'array' });
    const value = r.rows[0]?.[0];
    return value === true ? null : `returned ${r.rows.length ? JSON.stringify(value) : 'no row'}, not true`;
  } catch (e) {
    return (e as Error).message;
  } finally {
    await client?.end().catch(() => {});
  }
}

export async function checkHealth(input: HealthInput): Promise<HealthResult> {
  const deadline = Date.now() + input.timeoutMs;
  const interval = input.intervalMs ?? 1_000;
  let rounds = 0;
  for (;;) {
    rounds++;
    const failed = await oneRound(input, () => deadline - Date.now());
    if (!failed) return { ok: true, rounds, failed: null };
    if (Date.now() + interval >= deadline) return { ok: false, rounds, failed };
    input.onRetry?.(failed, rounds, deadline - Date.now());
    await sleep(interval);
  }
}

async function oneRound(input: HealthInput, left: () => number): Promise<HealthResult['failed']> {
  if (input.postgres && input.requirePostgres) {
    const why = await runSql(input.postgres, 'select true', input.env, left());
    if (why) return { check: 'PostgreSQL is up', reason: why };
  }
  for (const argv of input.checks) {
    const why = await runCheck(argv, input.env, left());
    if (why) return { check: `--check ${argv.join(' ')}`, reason: why };
  }
  if (input.checkSql !== null) {
    if (!input.postgres) return { check: '--check-sql', reason: 'the crypt has no PostgreSQL configured' };
    const why = await runSql(input.postgres, input.checkSql, input.env, left());
    if (why) return { check: `--check-sql ${input.checkSql}`, reason: why };
  }
  return null;
}
