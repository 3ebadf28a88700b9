// Is the crypt's PostgreSQL running, and can we reach it? postmaster.pid (a live postgres PID) plus a
// connection attempt at the configured address. Only "nothing listens there" (no socket, connection
// refused) with no live postmaster counts as down; every other failure is an error with its reason —
// never a silent downgrade to a weaker mode.
import { connectHint } from '../../base/pg/connect.js';
import type { PostgresConfig } from '../../model/config.js';
import { CryptError } from '../../base/errors.js';
import { environmentKind, hintFor, ServerRecoveringError } from '../../base/expected-errors.js';
import { readPostmaster, type PostmasterState } from '../../base/pg/postmaster.js';
import { RitualSession } from './session.js';
import { passwordSources } from '../../base/pg/connect.js';

export type ServerState =
  | { kind: 'up'; session: RitualSession; postmaster: PostmasterState }
  | { kind: 'down'; postmaster: PostmasterState }
  /** Something is there but we cannot use it; `reason` says what. */
  | { kind: 'unreachable'; reason: string; postmaster: PostmasterState; cause?: unknown };

/** Walks an error's cause chain for a socket-level "nobody listens" code. */
export function nobodyListens(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) {
    if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') return true;
  }
  return false;
}

function rootMessage(err: unknown, pg: PostgresConfig): string {
  let e = err as { message?: string; cause?: unknown };
  while (e?.cause && (e.cause as { message?: string }).message) e = e.cause as typeof e;
  const msg = e?.message ?? String(err);
  // pg's wording when the server wants a password and we have none.
  if (/client password must be a string|password must be a string/i.test(msg)) {
    return `the server asks for a password, and ${passwordSources(pg.connection)} provides none`;
  }
  return msg;
}

export async function probeServer(pg: PostgresConfig, pgdata: string, env: NodeJS.ProcessEnv, onNotice: (m: string) => void): Promise<ServerState> {
  const postmaster = await readPostmaster(pgdata);
  try {
    const session = await RitualSession.open(pg, env, onNotice);
    return { kind: 'up', session, postmaster };
  } catch (e) {
    if (!postmaster.running && nobodyListens(e)) return { kind: 'down', postmaster };
    return { kind: 'unreachable', reason: rootMessage(e, pg), postmaster, cause: e };
  }
}

/** The exit-1 error for a server we must not snapshot around, with what to check. */
export function unreachableError(pg: PostgresConfig, state: Extract<ServerState, { kind: 'unreachable' }>): CryptError {
  const where = pg.connection.host.startsWith('/') ? `socket ${pg.connection.host}/.s.PGSQL.${pg.connection.port}` : `${pg.connection.host}:${pg.connection.port}`;
  if (environmentKind(state.cause) === 'server-recovering') {
    // Starting up, in crash recovery or shutting down (SQLSTATE 57P03): nothing is misconfigured.
    return new ServerRecoveringError(
      `PostgreSQL${state.postmaster.pid ? ` (PID ${state.postmaster.pid})` : ''} does not accept connections yet: ${state.reason}. No snapshot was taken.`,
      { hint: hintFor('server-recovering'), cause: state.cause },
    );
  }
  const running = state.postmaster.running
    ? `PostgreSQL is running (PID ${state.postmaster.pid}${state.postmaster.socketDir ? `, socket directory ${state.postmaster.socketDir}, port ${state.postmaster.port}` : ''})`
    : 'a PostgreSQL server answers';
  let cause = state.cause as { code?: string; cause?: unknown } | undefined;
  while (cause?.cause && !cause.code) cause = cause.cause as typeof cause;
  return new CryptError(`${running} but cannot be reached at ${where} as ${pg.connection.user}: ${state.reason}. No snapshot was taken.`, {
    // What is wrong (no such role, database, a refused password) and — the connection being the registry's —
    // the exact command that changes it, root's for a reader who is not root.
    hint: `${connectHint(cause ?? {}, pg.connection)} (Or pg_hba.conf refuses it.) To snapshot without the database, stop it first (a cold snapshot) — a running server is never snapshotted blind.`,
  });
}
