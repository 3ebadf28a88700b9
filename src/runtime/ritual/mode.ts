// Which mode a snapshot runs in: what the user asked for, checked against what the database is doing.
// Default: bracket while the server runs, cold while it is down, none without a database.
import type { PostgresConfig } from '../../model/config.js';
import { CryptError, RefusedError, UsageError } from '../../base/errors.js';
import type { SnapshotMode } from '../snapshots/meta.js';
import type { ServerState } from './server-state.js';

export const MODES: readonly SnapshotMode[] = ['bracket', 'checkpoint', 'instant', 'cold', 'none'];

export function parseMode(value: unknown): SnapshotMode | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (MODES as readonly string[]).includes(value)) return value as SnapshotMode;
  throw new UsageError(`--mode must be one of ${MODES.join(', ')}, got "${String(value)}"`);
}

/** Without a database only `none` makes sense; asking for more is a usage error. */
export function modeWithoutDatabase(requested: SnapshotMode | undefined): SnapshotMode {
  if (requested && requested !== 'none') {
    throw new UsageError(`--mode ${requested} needs a database, but this crypt has none configured (postgres: null)`, {
      hint: 'Omit --mode (or use --mode none).',
    });
  }
  return 'none';
}

/** Decides the mode once the server's state is known; `unreachable` never gets here (it is an error). */
export function decideMode(requested: SnapshotMode | undefined, state: Exclude<ServerState['kind'], 'unreachable'>, pg: PostgresConfig): SnapshotMode {
  refuseWithOutsideWal(requested, pg);
  if (state === 'up') {
    if (requested === 'cold') {
      throw new RefusedError('--mode cold refused: PostgreSQL is running, so its files are not at rest. No snapshot was taken.', {
        hint: `Stop it first (pg_ctl -D … stop, or its service), or omit --mode for an online (bracket) snapshot.`,
      });
    }
    return requested ?? 'bracket';
  }
  if (requested === 'bracket' || requested === 'checkpoint' || requested === 'instant') {
    const where = pg.connection.host.startsWith('/') ? `${pg.connection.host} port ${pg.connection.port}` : `${pg.connection.host}:${pg.connection.port}`;
    throw new CryptError(`--mode ${requested} needs the running server, but PostgreSQL is not running (nothing listens at ${where}). No snapshot was taken.`, {
      hint: 'Start PostgreSQL, or omit --mode to take a cold snapshot of the stopped database.',
    });
  }
  return requested ?? 'cold';
}

/**
 * With the live WAL outside the crypt (postgres.walDir) a snapshot of active/ alone holds data without the WAL
 * of the same instant: only backup mode (whose WAL range the Ritual copies in) or a stopped server will do.
 */
export function refuseWithOutsideWal(requested: SnapshotMode | undefined, pg: PostgresConfig): void {
  if (!pg.walDir || !requested || requested === 'bracket' || requested === 'cold') return;
  throw new UsageError(
    `--mode ${requested} cannot work with postgres.walDir: the snapshot would hold data without the WAL of the same instant (the live WAL is outside the crypt, in ${pg.walDir}). No snapshot was taken.`,
    { hint: 'Use bracket (the default) or, with the server stopped, cold.' },
  );
}
