// A throwaway PostgreSQL on a writable clone of a snapshot, for `verify`: private socket directory, no
// TCP, no WAL archiving, small memory, a private pg_hba that trusts only that socket. Started and stopped
// with pg_ctl as the cluster's OS user.
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { unanchor } from '../../base/anchors.js';
import { SHELL_UNSAFE } from '../service/argv.js';
import path from 'node:path';
import { asUser, type Runner } from '../../base/runner.js';
import { pgProgram } from '../../base/pg/bin.js';
import { serverRunOptions } from '../../base/pg/server-env.js';
import { readLogTail } from '../service/log-tail.js';

export interface CloneServer {
  socketDir: string;
  port: number;
  logFile: string;
  stop(): Promise<void>;
  logTail(lines?: number): Promise<string>;
}

/**
 * Settings forced on the clone. archive_mode=off matters most: the clone must never push WAL into the
 * live server's archive. hba_file points at our own file so the check can connect without a password.
 */
export function cloneSettings(socketDir: string, port: number, hbaFile: string, pgdata: string, major: number): string[] {
  const dir = path.dirname(hbaFile);
  return [
    // Whatever the snapshot's postgresql.conf says, the clone runs on the clone: a data_directory, an
    // external PID file or a stats directory pointing at the live server's must not be followed.
    `data_directory='${pgdata}'`,
    `external_pid_file='${path.join(dir, 'postmaster.external.pid')}'`,
    ...(major <= 14 ? ["stats_temp_directory='pg_stat_tmp'"] : []),
    `ident_file='${path.join(dir, 'pg_ident.conf')}'`,
    `port=${port}`,
    `unix_socket_directories='${socketDir}'`,
    "listen_addresses=''",
    'archive_mode=off',
    "archive_command=''",
    'shared_buffers=64MB',
    'max_connections=20',
    'logging_collector=off',
    "log_destination='stderr'",
    'ssl=off',
    `hba_file='${hbaFile}'`,
    "cluster_name='lychd-crypt-verify'",
  ];
}

export async function startCloneServer(
  runner: Runner,
  binDir: string,
  pgdata: string,
  owner: { uid: number; gid: number },
  major: number,
  port = 5432,
): Promise<CloneServer> {
  // pg_ctl runs the postmaster through /bin/sh: -D and the log file inside double quotes, our -o values
  // inside single quotes. A path with a quote, `$`, a backquote or a backslash cannot be passed safely.
  // The path pg_ctl sees (as postgres, root's fd anchors become the registered path again).
  for (const [what, p] of [['the clone', unanchor(pgdata)], ['$TMPDIR (set TMPDIR elsewhere)', os.tmpdir()]] as const) {
    if (SHELL_UNSAFE.test(p)) throw new Error(`cannot start the clone server: ${what} ${p} contains a quote, $, \` or backslash`);
  }
  const socketDir = await mkdtemp(path.join(os.tmpdir(), 'lychd-verify-'));
  await chown(socketDir, owner.uid, owner.gid); // mkdtemp makes it 0700: only the clone's user (and root) get in
  const hbaFile = path.join(socketDir, 'pg_hba.conf');
  await writeFile(hbaFile, 'local all all trust\n', { mode: 0o600 });
  await chown(hbaFile, owner.uid, owner.gid);
  const identFile = path.join(socketDir, 'pg_ident.conf');
  await writeFile(identFile, '', { mode: 0o600 });
  await chown(identFile, owner.uid, owner.gid);
  const logFile = path.join(socketDir, 'postgres.log');
  await writeFile(logFile, '', { mode: 0o600 });
  await chown(logFile, owner.uid, owner.gid);
  const ctl = pgProgram(binDir, 'pg_ctl');
  const opts = cloneSettings(socketDir, port, hbaFile, pgdata, major)
    .map((s) => `-c ${s}`)
    .join(' ');
  const server: CloneServer = {
    socketDir,
    port,
    logFile,
    async logTail(n = 20) {
      // The directory is the clone user's: its log is read only as a regular file of theirs.
      const log = await readLogTail(logFile, owner.uid, n).catch(() => ({ text: '', problem: null }));
      return log.problem ? `(${log.problem})` : log.text;
    },
    async stop() {
      // Immediate: the clone is deleted next, so a shutdown checkpoint would only write data nobody reads.
      await runner.run(asUser(owner, [ctl, '-D', pgdata, '-m', 'immediate', '-w', '-t', '60', 'stop']), { allowFailure: true });
      await rm(socketDir, { recursive: true, force: true });
    },
  };
  // -w waits until the server accepts connections, i.e. after crash recovery of the snapshot's WAL.
  const r = await runner.run(asUser(owner, [ctl, '-D', pgdata, '-l', logFile, '-w', '-t', '600', '-o', opts, 'start']), {
    allowFailure: true,
    ...(await serverRunOptions(runner, owner.uid)),
  });
  if (r.exitCode !== 0) {
    const tail = await server.logTail();
    await server.stop();
    throw new Error(`the clone did not start (pg_ctl exit ${r.exitCode}):\n${tail || r.stderr.trim()}`);
  }
  return server;
}
