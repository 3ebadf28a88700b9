// What state the crypt's PostgreSQL is in, from the postmaster and one short connection attempt: running,
// recovering (the postmaster answers "starting up" / "in recovery mode", SQLSTATE 57P03), crashed (a
// postmaster.pid whose process is gone) or stopped. Used to say what happened to the database when a
// command fails, and by `lychd-crypt db status`.
import type { PostgresConfig } from '../../model/config.js';
import { environmentKind } from '../expected-errors.js';
import { connectPostgres } from './connect.js';
import { readPostmaster } from './postmaster.js';

export type DbStateKind = 'running' | 'recovering' | 'unreachable' | 'crashed' | 'stopped';

export interface DbState {
  kind: DbStateKind;
  pid: number | null;
  /** One line for people, e.g. "PostgreSQL is running (pid 123)". */
  text: string;
  /** Why a running postmaster did not let us in, when it did not. */
  reason?: string;
}

export async function probeDatabase(pg: PostgresConfig, pgdata: string, env: NodeJS.ProcessEnv, connectTimeoutMs = 3000): Promise<DbState> {
  const pm = await readPostmaster(pgdata).catch(() => null);
  if (!pm) return { kind: 'unreachable', pid: null, text: `PostgreSQL's state is unknown: ${pgdata}/postmaster.pid cannot be read` };
  if (!pm.running) {
    return pm.pid !== null
      ? { kind: 'crashed', pid: pm.pid, text: `PostgreSQL is down: postmaster.pid names pid ${pm.pid}, which is gone (it crashed or was killed)` }
      : { kind: 'stopped', pid: null, text: 'PostgreSQL is stopped' };
  }
  try {
    const client = await connectPostgres(pg, { env, connectTimeoutMs, applicationName: 'lychd-crypt status' });
    try {
      const r = await client.query<{ rec: boolean }>('select pg_is_in_recovery() as rec');
      if (r.rows[0]?.rec) return { kind: 'recovering', pid: pm.pid, text: `PostgreSQL runs (pid ${pm.pid}) but is in recovery` };
    } finally {
      await client.end().catch(() => {});
    }
    return { kind: 'running', pid: pm.pid, text: `PostgreSQL is running (pid ${pm.pid})` };
  } catch (e) {
    const reason = rootMessage(e);
    if (environmentKind(e) === 'server-recovering') {
      return { kind: 'recovering', pid: pm.pid, reason, text: `PostgreSQL is restarting (pid ${pm.pid}: ${reason}); it accepts connections again once crash recovery is done` };
    }
    return { kind: 'unreachable', pid: pm.pid, reason, text: `PostgreSQL runs (pid ${pm.pid}) but does not answer: ${reason}` };
  }
}

function rootMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown };
  while (e?.cause && (e.cause as { message?: string }).message) e = e.cause as typeof e;
  return e?.message ?? String(err);
}

/** The line a failed command adds: what the database is doing now, and how to bring it back. */
export function databaseAftermath(state: DbState): string {
  switch (state.kind) {
    case 'running':
      return `${state.text}.`;
    case 'recovering':
      return `${state.text}. If it keeps restarting, the crypt is probably full: free space, then check with \`lychd-crypt db status\`.`;
    case 'crashed':
      return `${state.text}. Free what made it fail, then start it with \`lychd-crypt db start\` (\`lychd-crypt db status\` shows its log).`;
    case 'stopped':
      return `${state.text}; start it with \`lychd-crypt db start\` when the cause is fixed.`;
    case 'unreachable':
      return `${state.text}. See \`lychd-crypt db status\`.`;
  }
}
