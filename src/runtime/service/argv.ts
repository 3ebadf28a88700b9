// The exact commands that stop and start PostgreSQL for each `postgres.service` kind. Pure, so the
// systemd kinds run for real under a systemd container in test/real/systemd-service.test.ts; here, their argv.
import path from 'node:path';
import type { PostgresConfig } from '../../model/config.js';
import { unanchor } from '../../base/anchors.js';
import { RefusedError } from '../../base/errors.js';
import { asUser } from '../../base/runner.js';
import { pgProgram } from '../../base/pg/bin.js';
import { SHELL_SENSITIVE, shellSensitiveChars } from '../../base/output/shell-chars.js';
import { podmanStartArgv, podmanStopArgv } from '../../base/container/podman.js';

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
  /** pg_ctl's server log (outside active/, so a rollback never takes the log that explains it away). */
  logFile: string;
}

export function pgLogFile(logDir: string): string {
  return path.join(logDir, 'pg_ctl.log');
}

// pg_ctl hands -o to /bin/sh as part of one command line: only plain values go there.
export const SHELL_SAFE = /^[A-Za-z0-9_./@%+=:,-]+$/;
/** Characters that change meaning inside sh's double quotes, where pg_ctl puts -D and -l (src/base/output/shell-chars.ts). */
export const SHELL_UNSAFE = SHELL_SENSITIVE;

/**
 * Refuses a value pg_ctl would pass through a shell: a crypt path with `$(…)` must never run anything.
 * init refuses such paths since; a crypt made before cannot be started by pg_ctl at all.
 */
export function assertShellSafe(what: string, value: string): void {
  if (SHELL_UNSAFE.test(value)) {
    throw new RefusedError(`${what} ${JSON.stringify(value)} holds ${shellSensitiveChars(value)}, which pg_ctl would hand to /bin/sh; nothing was run`, {
      hint: 'pg_ctl cannot start a server there safely. Let a systemd unit run PostgreSQL (postgres.service: { kind: systemd, unit: … } in the answers, then `lychd-crypt init` again), or move the crypt to a path without these characters (a new crypt: `lychd-crypt init` refuses such paths).',
    });
  }
}

/**
 * `-o` for pg_ctl start: the server listens where postgres.connection says, whatever the (possibly
 * rolled-back) postgresql.conf says, since that is where the tool and the applications connect. The
 * socket directory is set only for a Unix-socket connection (host is a path).
 */
export function pgCtlServerOptions(pg: PostgresConfig): string[] {
  const opts = [`-p ${pg.connection.port}`];
  const host = pg.connection.host;
  if (host.startsWith('/') && SHELL_SAFE.test(host)) opts.push(`-k ${host}`);
  return ['-o', opts.join(' ')];
}

/**
 * `stop` uses fast shutdown (sessions are cut, the server checkpoints and exits cleanly); `immediate`
 * is the escalation when fast shutdown does not finish in time — safe, it is a crash the next start
 * recovers from.
 */
export function serviceArgv(t: ServiceTarget, verb: Verb, mode: 'fast' | 'immediate' = 'fast'): string[] {
  const s = t.pg.service;
  switch (s.kind) {
    case 'pg_ctl': {
      const pgCtl = pgProgram(t.binDir, 'pg_ctl');
      assertShellSafe('PGDATA', unanchor(t.pgdata));
      assertShellSafe("pg_ctl's log", t.logFile);
      assertShellSafe('the PostgreSQL bin directory', t.binDir);
      const tail = verb === 'stop' ? ['-m', mode, 'stop'] : ['-l', t.logFile, ...pgCtlServerOptions(t.pg), 'start'];
      return asUser({ uid: t.pg.uid, gid: t.pg.gid }, [pgCtl, '-D', t.pgdata, '-w', '-t', String(PG_CTL_WAIT_SECONDS), ...tail]);
    }
    case 'systemd':
      // -M user@ reaches the user's own service manager (systemd --user) from root, through
      // systemd-machined, without a login session or XDG_RUNTIME_DIR in our environment.
      if (!s.user) return ['systemctl', verb, s.unit];
      // The owner itself (a rootless crypt) talks to its own manager; root reaches it through machined.
      return process.getuid?.() === 0 ? ['systemctl', '--user', '-M', `${t.cryptUser}@`, verb, s.unit] : ['systemctl', '--user', verb, s.unit];
    case 'command':
      return verb === 'stop' ? s.stop : s.start;
    case 'container': {
      // The owner's own podman (a rootless crypt's commands always run as the owner). The image's stop
      // signal (SIGINT for postgres: a fast shutdown), given as long as pg_ctl would wait before SIGKILL.
      const name = t.pg.container?.name;
      if (!name) throw new Error('postgres.service container needs postgres.container (init checks this)');
      return verb === 'stop' ? podmanStopArgv(name, PG_CTL_WAIT_SECONDS) : podmanStartArgv(name);
    }
    case 'none':
      throw new Error('postgres.service is none: there is no command to run');
  }
}
