// Helpers for the snapshot/list/delete real tests: run the CLI in-process (fast) or as the bundled
// runtime in a child process (for kills and concurrency), and a crypt fixture with a running server.
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import path from 'node:path';
import { main } from '../../src/cli.js';
import { makeCryptFixture, type CryptFixture, type FixtureOptions } from './crypt-fixture.js';
import { PG_BIN, REPO } from './env.js';
import { startTestServer, type PgVersion, type TestServer } from './pg.js';
import type { Scratch } from './scratch.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
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

function parse(stdout: string): unknown {
  try {
    return JSON.parse(stdout);
  } catch {
    return undefined;
  }
}

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
  return { code, stdout: out.text(), stderr: err.text(), json: parse(out.text()) };
}

export const BUNDLE = path.join(REPO, 'dist/lychd-crypt.js');

/** Runs the bundled runtime as a child process (asynchronously, so several can run at once). */
export function cliChild(root: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun & { signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', [BUNDLE, '--crypt', root, ...args], { env: { ...process.env, ...env }, cwd: '/' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? -1, signal, stdout, stderr, json: parse(stdout) }));
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
  opts: { conf?: string[]; fixture?: FixtureOptions } = {},
): Promise<CryptWithServer> {
  const fx = await makeCryptFixture(scratch, { pgBin: PG_BIN[version], ...opts.fixture });
  const server = await startTestServer(scratch, {
    version,
    pgdata: fx.pgdata,
    socketDir: fx.config.postgres!.connection.host,
    port: fx.config.postgres!.connection.port,
    conf: opts.conf,
  });
  return { fx, server };
}
