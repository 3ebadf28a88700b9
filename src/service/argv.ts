// The exact commands that stop and start PostgreSQL for each `postgres.service` kind. Pure, so the
// systemd kinds (which cannot run here: systemd is not PID 1 in tests) are checked by their argv.
import type { PostgresConfig } from '../config/config.js';
import { asUser } from '../core/runner.js';
import { pgProgram } from '../pg/bin.js';

export type Verb = 'stop' | 'start';

/** pg_ctl's own wait limit; the runner's timeout is a little longer so pg_ctl reports first. */
export const PG_CTL_WAIT_SECONDS = 120;

export interface ServiceTarget {
  pg: PostgresConfig;
  /** Absolute PGDATA. */
  pgdata: string;
  /** Resolved bin directory (for pg_ctl). */
  binDir: string;
  /** The crypt's user: `systemd` units with `user: true` are that user's own (e.g. a rootless Quadlet). */
  cryptUser: string;
}

/**
 * `stop` uses fast shutdown (sessions are cut, the server checkpoints and exits cleanly); `immediate`
 * is the escalation when fast shutdown does not finish in time — safe, it is a crash the next start
 * recovers from. pg_ctl start logs to a file in PGDATA (the postgres user can write there, and a
 * server without a log makes a failed start unexplainable).
 */
export function serviceArgv(t: ServiceTarget, verb: Verb, mode: 'fast' | 'immediate' = 'fast'): string[] {
  const s = t.pg.service;
  switch (s.kind) {
    case 'pg_ctl': {
      const pgCtl = pgProgram(t.binDir, 'pg_ctl');
      const tail =
        verb === 'stop' ? ['-m', mode, 'stop'] : ['-l', `${t.pgdata}/lychd-crypt-pg_ctl.log`, 'start'];
      return asUser({ uid: t.pg.uid, gid: t.pg.gid }, [pgCtl, '-D', t.pgdata, '-w', '-t', String(PG_CTL_WAIT_SECONDS), ...tail]);
    }
    case 'systemd':
      // -M user@ reaches the user's own service manager from root without a login session.
      return s.user ? ['systemctl', '--user', '-M', `${t.cryptUser}@`, verb, s.unit] : ['systemctl', verb, s.unit];
    case 'command':
      return verb === 'stop' ? s.stop : s.start;
    case 'none':
      throw new Error('postgres.service is none: there is no command to run');
  }
}
