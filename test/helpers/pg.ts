// Real PostgreSQL servers for tests: initdb + start as the postgres OS user, listening only on a
// Unix socket in the test's scratch directory (no TCP, so parallel tests never clash on a port).
import { mkdir, chown, appendFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { PG_BIN } from './env.js';
import { ids } from './host.js';
import type { Scratch } from './scratch.js';

export type PgVersion = 14 | 15 | 18;

export interface TestServer {
  version: PgVersion;
  bin: string;
  pgdata: string;
  socketDir: string;
  port: number;
  /** The server's log file (pg_ctl -l). */
  logFile: string;
  connect(database?: string): Promise<pg.Client>;
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]>;
  start(): void;
  stop(mode?: 'fast' | 'immediate'): void;
  isRunning(): boolean;
}

function asOsUser(who: { uid: number; gid: number }, argv: string[], env: Record<string, string> = {}): string {
  const { uid, gid } = who;
  return execFileSync('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', ...argv], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env, LC_ALL: 'C' },
    cwd: '/',
  });
}

/**
 * The PID of the postmaster serving `pgdata`, or null. `pg_ctl status` trusts any live process of the
 * server's user with the PID postmaster.pid names; with many servers coming and going in a parallel
 * suite, a stale file's PID is soon another server's backend. A postmaster works in its PGDATA.
 */
function ownPostmaster(pgdata: string): number | null {
  try {
    const pid = Number(readFileSync(path.join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (!(pid > 0)) return null;
    const cwd = statSync(`/proc/${pid}/cwd`);
    const dir = statSync(pgdata);
    if (cwd.dev !== dir.dev || cwd.ino !== dir.ino) return null;
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')) ? null : pid;
  } catch {
    return null;
  }
}

/** initdb into `pgdata` (must be empty or absent) and start the server. */
export async function startTestServer(
  scratch: Scratch,
  opts: { version?: PgVersion; pgdata: string; socketDir?: string; port?: number; conf?: string[]; osUser?: { uid: number; gid: number }; initdbArgs?: string[] },
): Promise<TestServer> {
  // The server's OS user: postgres, or (a rootless crypt) the crypt's owner.
  const asPostgres = (argv: string[], env: Record<string, string> = {}) => asOsUser(opts.osUser ?? ids('postgres'), argv, env);
  const version = opts.version ?? 15;
  const bin = PG_BIN[version];
  const socketDir = opts.socketDir ?? scratch.path('sock');
  const port = opts.port ?? 5432;
  const pgUser = opts.osUser ?? ids('postgres');
  await mkdir(socketDir, { recursive: true });
  await chown(socketDir, pgUser.uid, pgUser.gid);
  await mkdir(opts.pgdata, { recursive: true });
  await chown(opts.pgdata, pgUser.uid, pgUser.gid);
  asPostgres([path.join(bin, 'initdb'), '-D', opts.pgdata, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync', ...(opts.initdbArgs ?? [])]);
  const conf = [
    "listen_addresses = ''",
    `unix_socket_directories = '${socketDir}'`,
    `port = ${port}`,
    'fsync = on',
    'shared_buffers = 32MB',
    'max_wal_size = 256MB',
    ...(opts.conf ?? []),
  ];
  await appendFile(path.join(opts.pgdata, 'postgresql.conf'), `\n${conf.join('\n')}\n`);
  const logFile = path.join(path.dirname(socketDir), `pg${version}-${port}.log`);
  await appendFile(logFile, '');
  await chown(logFile, pgUser.uid, pgUser.gid);

  const server: TestServer = {
    version,
    bin,
    pgdata: opts.pgdata,
    socketDir,
    port,
    logFile,
    async connect(database = 'postgres') {
      const c = new pg.Client({ host: socketDir, port, user: 'postgres', database });
      await c.connect();
      return c;
    },
    async query(sql, params) {
      const c = await server.connect();
      try {
        return (await c.query(sql, params)).rows;
      } finally {
        await c.end();
      }
    },
    start() {
      // A postmaster.pid left by a server that is gone (a replayed power cut, a crash) whose PID another
      // postgres process now has would make the postmaster refuse to start: it is stale, so it goes.
      if (!ownPostmaster(opts.pgdata)) rmSync(path.join(opts.pgdata, 'postmaster.pid'), { force: true });
      asPostgres([path.join(bin, 'pg_ctl'), '-D', opts.pgdata, '-l', logFile, '-w', '-t', '60', 'start']);
    },
    stop(mode = 'fast') {
      // pg_ctl would signal whatever process has the PID the file names, e.g. another test's backend.
      if (!ownPostmaster(opts.pgdata)) return;
      asPostgres([path.join(bin, 'pg_ctl'), '-D', opts.pgdata, '-m', mode, '-w', '-t', '60', 'stop']);
    },
    isRunning() {
      return ownPostmaster(opts.pgdata) !== null;
    },
  };
  server.start();
  scratch.defer(() => {
    if (server.isRunning()) {
      try {
        server.stop('immediate');
      } catch {
        /* the sweep kills it */
      }
    }
  });
  return server;
}

/** pgbench 15 with `args`, its output collected (load generator for the snapshot/rollback-under-load tests). */
export function runPgbench(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(PG_BIN[15], 'pgbench'), args, { env: { ...process.env, ...env, LC_ALL: 'C' } });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (out += String(d)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}
