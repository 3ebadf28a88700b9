// Stops and starts PostgreSQL through the configured postgres.service, and confirms what happened by
// the postmaster itself: after a stop the old PID must be gone, after a start a postmaster must run.
import { chown, lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { PostgresConfig } from '../../model/config.js';
import { CommandError, CryptError, RefusedError } from '../../base/errors.js';
import type { Runner } from '../../base/runner.js';
import { resolvePgBin } from '../../base/pg/bin.js';
import { resumeBackupRecovery } from '../../base/pg/backup-recovery.js';
import { isPostgresPid, readPostmaster } from '../../base/pg/postmaster.js';
import { PG_CTL_WAIT_SECONDS, pgLogFile, serviceArgv, type ServiceTarget } from './argv.js';
import { readLogTail } from './log-tail.js';
import { serverRunOptions } from '../../base/pg/server-env.js';
import { readFileSafely, UnsafeFileError } from '../../base/sys/read-file.js';
import { inspectContainer, type ContainerFacts } from '../../base/container/podman.js';

const RUN_TIMEOUT_MS = (PG_CTL_WAIT_SECONDS + 30) * 1000;

/** Whose service it is and where pg_ctl's log goes (the crypt's state directory, outside the crypt). */
export interface ServiceOwner {
  user: string;
  logDir: string;
}

export const serviceOwner = (crypt: { config: { crypt: { user: string } }; paths: { pgLog: string } }): ServiceOwner => ({
  user: crypt.config.crypt.user,
  logDir: crypt.paths.pgLog,
});

export async function serviceTarget(pg: PostgresConfig, pgdata: string, owner: ServiceOwner): Promise<ServiceTarget> {
  const binDir = pg.service.kind === 'pg_ctl' ? await resolvePgBin(pg.bin) : (pg.bin ?? '');
  return { pg, pgdata, binDir, cryptUser: owner.user, logFile: pgLogFile(owner.logDir) };
}

/**
 * The log directory must exist and belong to the postgres user before pg_ctl (running as that user) opens
 * the log. Its parent is the state directory, which only root (or the rootless owner) can write, so the
 * directory itself cannot have been swapped for a link; lstat makes sure before chown.
 */
async function prepareLog(t: ServiceTarget): Promise<void> {
  const dir = path.dirname(t.logFile);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  if (!st.isDirectory()) throw new RefusedError(`pg_ctl's log directory ${dir} is not a directory; nothing was started`, { hint: 'Remove it; it is made again.' });
  if (st.uid !== t.pg.uid || st.gid !== t.pg.gid) await chown(dir, t.pg.uid, t.pg.gid);
  // pg_ctl's shell appends to the log: a FIFO there would hold the start (and the command) until the timeout.
  await readFileSafely(t.logFile, { maxBytes: 0, part: 'head' }).catch((e: unknown) => {
    if (!(e instanceof UnsafeFileError)) throw e;
    throw new RefusedError(`pg_ctl's log ${e.file} ${e.why}; nothing was started`, { hint: 'Remove it (pg_ctl makes a new one) and run the command again.' });
  });
}

async function waitUntil(cond: () => Promise<boolean>, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (await cond()) return true;
  return cond();
}

/**
 * Stops a running server; returns false when none was running. Refuses (exit 3) when no service can
 * stop it. pg_ctl escalates from fast to immediate shutdown when fast does not finish in time.
 */
export async function stopDatabase(runner: Runner, pg: PostgresConfig | null, pgdata: string, owner: ServiceOwner): Promise<boolean> {
  const pm = await readPostmaster(pgdata);
  // A container that runs is stopped even before its server is up (its entrypoint may be about to start it).
  const box = pg?.container && pg.service.kind !== 'none' ? await containerOf(runner, pg) : null;
  if ((!pm.running || pm.pid === null) && !box?.running) return false;
  if (!pg || pg.service.kind === 'none') {
    throw new RefusedError(`PostgreSQL is running on ${pgdata} (pid ${pm.pid}) and postgres.service is none, so it cannot be stopped; nothing was changed`, {
      hint: 'Stop the database yourself and run the command again, or configure postgres.service (pg_ctl, systemd or command) with init.',
    });
  }
  const t = await serviceTarget(pg, pgdata, owner);
  const pid = pm.running ? pm.pid : null;
  try {
    await runner.run(serviceArgv(t, 'stop'), { timeoutMs: RUN_TIMEOUT_MS, cwd: '/' });
  } catch (e) {
    if (pg.service.kind !== 'pg_ctl' || !(e instanceof CommandError)) throw e;
    // A server whose shutdown checkpoint cannot be written (full or read-only crypt) PANICs and is gone.
    if (pid !== null && (await isPostgresPid(pid))) await runner.run(serviceArgv(t, 'stop', 'immediate'), { timeoutMs: RUN_TIMEOUT_MS, cwd: '/' });
  }
  if (pid !== null && !(await waitUntil(async () => !(await isPostgresPid(pid)), 60_000))) {
    throw new CryptError(`PostgreSQL (pid ${pid}) still runs after its service stopped it; nothing was changed`, {
      hint: `Check postgres.service; stop the server by hand if needed.`,
    });
  }
  return true;
}

/** Starts the server and waits until a postmaster runs on PGDATA (connections are checked by callers). */
export async function startDatabase(runner: Runner, pg: PostgresConfig, pgdata: string, owner: ServiceOwner): Promise<void> {
  if ((await readPostmaster(pgdata)).running) return;
  const t = await serviceTarget(pg, pgdata, owner);
  // A restored state with its own WAL whose backup recovery was cut off would never start (base/pg/backup-recovery.ts).
  if (pg.walDir && pg.service.kind !== 'container') await resumeBackupRecovery(runner, await resolvePgBin(pg.bin).catch(() => null), pgdata, { uid: pg.uid, gid: pg.gid });
  if (pg.service.kind === 'pg_ctl') await prepareLog(t);
  // pg_ctl's own message only says "examine the log output": the log's tail says why.
  const tail = async (): Promise<string> => {
    if (pg.service.kind === 'container' && pg.container) {
      const log = await containerLogTail(runner, pg.container.name, 15);
      return log ? `\nlast lines of \`podman logs ${pg.container.name}\`:\n${log}` : '';
    }
    if (pg.service.kind !== 'pg_ctl') return '';
    const log = await readLogTail(t.logFile, pg.uid, 15);
    return log.problem ? `\n(pg_ctl's log: ${log.problem})` : log.text ? `\nlast lines of ${t.logFile}:\n${log.text}` : '';
  };
  const hint = `Look at its log (${pg.service.kind === 'pg_ctl' ? t.logFile : pg.container ? `podman logs ${pg.container.name}` : "the service's log"}); fix the cause and run \`lychd-crypt db start\`; the files are complete.`;
  // The postmaster pg_ctl starts keeps its environment and working directory: its own user's, not root's.
  const how = pg.service.kind === 'pg_ctl' ? await serverRunOptions(runner, pg.uid) : {};
  try {
    await runner.run(serviceArgv(t, 'start'), { timeoutMs: RUN_TIMEOUT_MS, ...how });
  } catch (e) {
    throw new CryptError(`PostgreSQL did not start on ${pgdata}: ${(e as Error).message}${await tail()}`, { cause: e, hint });
  }
  // A container whose server gave up (wrong files, a bad setting) has exited: no use waiting for it.
  const gone = async () => pg.service.kind === 'container' && !(await containerOf(runner, pg))?.running;
  if (!(await waitUntil(async () => (await readPostmaster(pgdata)).running || (await gone()), 60_000)) || !(await readPostmaster(pgdata)).running) {
    throw new CryptError(`PostgreSQL did not start on ${pgdata}${(await gone()) ? ` (container ${pg.container?.name} exited)` : ''}${await tail()}`, { hint });
  }
}

/** The configured container as podman sees it now (null: there is none of that name). */
async function containerOf(runner: Runner, pg: PostgresConfig): Promise<ContainerFacts | null> {
  return pg.container ? inspectContainer(runner, pg.container.name) : null;
}

/** The last lines of the container's own log (what its entrypoint and server said), or ''. */
async function containerLogTail(runner: Runner, name: string, lines: number): Promise<string> {
  const r = await runner.run(['podman', 'logs', '--tail', String(lines), '--', name], { allowFailure: true });
  return `${r.stdout}${r.stderr}`.trim();
}
