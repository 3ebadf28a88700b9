// Helpers for the snapshot/list/delete real tests: run the CLI in-process (fast) or as the bundled
// runtime in a child process (for kills and concurrency), and a crypt fixture with a running server.
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import path from 'node:path';
import { main } from '../../src/cli/program.js';
import { makeCryptFixture, type CryptFixture, type FixtureOptions } from './crypt-fixture.js';
import { PG_BIN } from './env.js';
import { parseJsonOutput } from './init.js';
import { startTestServer, type PgVersion, type TestServer } from './pg.js';
import type { Scratch } from './scratch.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** --json: the whole envelope (docs/json.md). */
  envelope?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/** --json output: the envelope's data, or the whole envelope of a failure (see parseJsonOutput). */
const parse = (stdout: string) => parseJsonOutput(stdout);

/** Runs `lychd-crypt --crypt <root> …args` in this process. */
export async function cli(root: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const out = sink();
  const err = sink();
  const code = await main(['--crypt', root, ...args], {
    stdout: out.stream,
    stderr: err.stream,
    stdinIsTTY: false,
    env: { ...process.env, ...env },
  });
  return { code, stdout: out.text(), stderr: err.text(), ...parse(out.text()) };
}

/**
 * Runs a bundled runtime (see buildCli in ./init.js) as a child process, asynchronously so several can
 * run at once.
 */
export function cliChild(bundle: string, root: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun & { signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', [bundle, '--crypt', root, ...args], { env: { ...process.env, ...env }, cwd: '/' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? -1, signal, stdout, stderr, ...parse(stdout) }));
  });
}

export interface CryptWithServer {
  fx: CryptFixture;
  server: TestServer;
}

/** A crypt fixture whose PGDATA holds a running server of `version` (socket in the scratch dir). */
export async function cryptWithServer(
  scratch: Scratch,
  version: PgVersion = 15,
  opts: { conf?: string[]; fixture?: FixtureOptions; initdbArgs?: string[] } = {},
): Promise<CryptWithServer> {
  const fx = await makeCryptFixture(scratch, { pgBin: PG_BIN[version], ...opts.fixture });
  const server = await startTestServer(scratch, {
    version,
    pgdata: fx.pgdata,
    socketDir: fx.config.postgres!.connection.host,
    port: fx.config.postgres!.connection.port,
    conf: opts.conf,
    initdbArgs: opts.initdbArgs,
    osUser: fx.config.profile === 'rootless' ? { uid: fx.config.crypt.uid, gid: fx.config.crypt.gid } : undefined,
  });
  return { fx, server };
}

/**
 * Starts a throwaway server on a writable clone of a snapshot (on the same Btrfs filesystem), with its
 * own socket directory and port, as a restore would: crash recovery from the snapshot's files.
 */
export async function startClone(
  scratch: Scratch,
  snapshotDir: string,
  cloneDir: string,
  version: PgVersion,
  port = 5499,
): Promise<{ pgdata: string; socketDir: string; port: number; connect(): Promise<import('pg').Client>; log: string }> {
  const { execFileSync } = await import('node:child_process');
  const { mkdir, chown, rm, appendFile } = await import('node:fs/promises');
  const pg = (await import('pg')).default;
  const { ids, sh } = await import('./host.js');
  sh(['btrfs', 'subvolume', 'snapshot', snapshotDir, cloneDir]);
  scratch.defer(() => {
    try {
      sh(['btrfs', 'subvolume', 'delete', cloneDir]);
    } catch {
      /* unmounted with the fixture */
    }
  });
  const pgdata = path.join(cloneDir, 'postgres');
  await rm(path.join(pgdata, 'postmaster.pid'), { force: true });
  const socketDir = scratch.path(`clone-sock-${port}`);
  const u = ids('postgres');
  await mkdir(socketDir, { recursive: true });
  await chown(socketDir, u.uid, u.gid);
  const log = scratch.path(`clone-${port}.log`);
  await appendFile(log, '');
  await chown(log, u.uid, u.gid);
  const asPg = (argv: string[]): string =>
    execFileSync('setpriv', [`--reuid=${u.uid}`, `--regid=${u.gid}`, '--clear-groups', '--', ...argv], { encoding: 'utf8', cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
  const ctl = path.join(PG_BIN[version], 'pg_ctl');
  asPg([ctl, '-D', pgdata, '-l', log, '-w', '-t', '120', '-o', `-c port=${port} -c unix_socket_directories='${socketDir}' -c listen_addresses=''`, 'start']);
  scratch.defer(() => {
    try {
      asPg([ctl, '-D', pgdata, '-m', 'immediate', '-w', 'stop']);
    } catch {
      /* the sweep kills it */
    }
  });
  return {
    pgdata,
    socketDir,
    port,
    log,
    async connect() {
      const c = new pg.Client({ host: socketDir, port, user: 'postgres', database: 'postgres' });
      await c.connect();
      return c;
    },
  };
}
