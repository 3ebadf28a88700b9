// Runs the bundled CLI (or any program) as another OS user, with that user's plain environment: how an
// owner or an attacker would run it. Shared by the trust and rootless tests.
import { spawn } from 'node:child_process';
import type { TestUser } from './host.js';
import { parseJsonOutput } from './init.js';

export interface UserRun {
  code: number;
  stdout: string;
  stderr: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** `user` null: as root, with root's plain environment. */
export function runAs(user: TestUser | null, argv: string[], env: Record<string, string> = {}): Promise<UserRun> {
  const base = { PATH: '/usr/local/bin:/usr/bin:/bin', LYCHD_CRYPT_REGISTRY: process.env.LYCHD_CRYPT_REGISTRY!, ...env };
  const [file, args, e] = user
    ? ['setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', ...argv], { ...base, HOME: user.home, USER: user.name }]
    : // Root's plain environment, but its code cache where every test keeps it (test/helpers/setup.ts), not
      // in the host's /var/cache; a user's goes to its home, in the scratch directory.
      [argv[0]!, argv.slice(1), { HOME: '/root', LYCHD_CRYPT_COMPILE_CACHE: process.env.LYCHD_CRYPT_COMPILE_CACHE!, ...base }];
  return new Promise((resolve, reject) => {
    const child = spawn(file as string, args as string[], { env: e, cwd: '/' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code: code ?? -1, stdout, stderr, ...parseJsonOutput(stdout) });
    });
  });
}

/** The bundled CLI as `user`. */
export const cliAs = (user: TestUser | null, bundle: string, args: string[], env: Record<string, string> = {}): Promise<UserRun> =>
  runAs(user, [process.execPath, bundle, ...args], env);

/** A python script run as `user` (a rename/symlink swapper): its stderr so far, and its stdout once it ends. */
export function startAs(user: TestUser, script: string): { err: () => string; done: Promise<string> } {
  const child = spawn('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', '/usr/bin/python3', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (err += String(d)));
  return { err: () => err, done: new Promise((res) => child.once('close', () => res(out))) };
}
