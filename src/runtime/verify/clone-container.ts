// verify's throwaway server for a crypt whose PostgreSQL runs in the owner's container: the clone's PGDATA
// run by a container of the same image, with the same id mapping (so the clone's files, a subordinate uid's
// on the host, are its postgres user's inside), no network, the image's entrypoint bypassed (a clone needs
// no initialisation, and the official entrypoint's first-run logic must never touch it), and a private
// socket directory of the owner's, which is all it listens on: the checks connect there from the host, and
// pg_amcheck runs inside the container against the same socket.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { randomHex } from '../../base/ids.js';
import type { Runner, RunResult } from '../../base/runner.js';
import { inspectContainer } from '../../base/container/podman.js';
import { mapArgs, type ContainerMaps } from '../../base/container/mapping.js';
import { cloneSettings, type CloneServer } from './clone-server.js';

/** Names of verify's containers: the next verify removes any a killed one left behind. */
export const VERIFY_CONTAINER_PREFIX = 'lychd-crypt-verify-';
/** Inside the verify container. */
const DATA = '/var/lib/postgresql/data';
const SOCKET = '/var/run/lychd-crypt-verify';
const PORT = 5432;

export interface CloneContainer extends CloneServer {
  name: string;
  /** pg_amcheck from the image, against the clone; null when the image has none. */
  amcheck(args: string[]): Promise<RunResult | null>;
}

export interface CloneContainerSpec {
  image: string;
  maps: ContainerMaps;
  /** The container's postgres user (e.g. 999:999): who owns the clone's files inside. */
  user: { uid: number; gid: number };
  /** The clone's PGDATA on the host. */
  pgdata: string;
  major: number;
}

/** Where the socket directory's private parent goes: the owner's runtime directory (short paths), else $TMPDIR. */
const privateDir = (env: NodeJS.ProcessEnv): string => (env.XDG_RUNTIME_DIR && path.isAbsolute(env.XDG_RUNTIME_DIR) ? env.XDG_RUNTIME_DIR : os.tmpdir());

/** -c values as argv takes them (no shell: no quotes around paths). */
const unquoted = (setting: string): string => setting.replace(/^([a-z_]+)='(.*)'$/, '$1=$2');

export async function startCloneContainer(runner: Runner, spec: CloneContainerSpec, env: NodeJS.ProcessEnv = process.env): Promise<CloneContainer> {
  // The clone trusts whoever reaches its socket: the directory is the owner's alone (0700), and inside it
  // the socket directory the container's postgres ("others" here: another uid) writes to and reads the hba
  // file from. The container mounts the inner one only; no one else on the host gets past the outer one.
  const outer = await mkdtemp(path.join(privateDir(env), 'lychd-verify-'));
  const socketDir = path.join(outer, 's');
  await mkdir(socketDir);
  await chmod(socketDir, 0o777);
  await writeFile(path.join(socketDir, 'pg_hba.conf'), 'local all all trust\n', { mode: 0o644 });
  await writeFile(path.join(socketDir, 'pg_ident.conf'), '', { mode: 0o644 });
  const name = `${VERIFY_CONTAINER_PREFIX}${randomHex(4)}`;
  const settings = cloneSettings(SOCKET, PORT, `${SOCKET}/pg_hba.conf`, DATA, spec.major).map(unquoted).flatMap((s) => ['-c', s]);
  const logs = async (n: number): Promise<string> => {
    const r = await runner.run(['podman', 'logs', '--tail', String(n), '--', name], { allowFailure: true });
    return `${r.stdout}${r.stderr}`.trim();
  };
  const server: CloneContainer = {
    name,
    socketDir,
    port: PORT,
    logFile: `podman logs ${name}`,
    logTail: logs.bind(null, 20),
    async stop() {
      // Killed, not shut down: the clone is deleted next, a checkpoint would write what nobody reads.
      await runner.run(['podman', 'rm', '--force', '--volumes', '--time', '0', '--', name], { allowFailure: true });
      await rm(outer, { recursive: true, force: true });
    },
    async amcheck(args) {
      const r = await runner.run(['podman', 'exec', name, 'pg_amcheck', '-h', SOCKET, '-p', String(PORT), ...args], { allowFailure: true, timeoutMs: 3_600_000 });
      return r.exitCode === 127 || /executable file .* not found|no such file or directory/i.test(r.stderr) ? null : r;
    },
  };
  const run = await runner.run(
    [
      'podman',
      'run',
      '--detach',
      '--name',
      name,
      '--network',
      'none',
      ...mapArgs(spec.maps),
      '--user',
      `${spec.user.uid}:${spec.user.gid}`,
      '--entrypoint',
      'postgres',
      '--volume',
      `${spec.pgdata}:${DATA}`,
      '--volume',
      `${socketDir}:${SOCKET}`,
      spec.image,
      '-D',
      DATA,
      ...settings,
    ],
    { allowFailure: true },
  );
  if (run.exitCode !== 0) {
    await server.stop();
    throw new Error(`the clone's container did not start (podman exit ${run.exitCode}): ${run.stderr.trim()}`);
  }
  // Ready when it accepts a connection on its socket: after crash recovery of the snapshot's WAL.
  for (const end = Date.now() + 600_000; ; await sleep(200)) {
    const c = new pg.Client({ host: socketDir, port: PORT, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 5000 });
    c.on('error', () => {});
    const err = await c.connect().then(
      () => null,
      (e: Error) => e,
    );
    await c.end().catch(() => {});
    // Any answer from the server itself (even "role does not exist") means it is up.
    if (!err || /role .* does not exist|database .* does not exist/.test(err.message)) return server;
    if (!(await inspectContainer(runner, name).catch(() => null))?.running || Date.now() > end) {
      const tail = await logs(20);
      await server.stop();
      const other = /incompatible with server/.test(tail) ? '\n(the image runs another PostgreSQL major version than the snapshot: give `verify --image` one of the snapshot\'s version)' : '';
      throw new Error(`the clone did not start in its container:\n${tail || err.message}${other}`);
    }
  }
}
