// Root running a runtime command on a rootless crypt re-runs it as the crypt's owner: a new process with
// the owner's uid, gid and groups and a minimal environment, so nothing root-only is ever done to files
// the owner controls. `systemctl --user` then reaches the owner's own service manager directly.
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { RunAsOwner } from '../crypt/access.js';
import { CryptError } from './errors.js';
import { SAFE_PATH } from './runner.js';
import { dieBySignal } from './die-by-signal.js';

/** What the owner's process gets from root's environment: only what selects the crypt and test hooks. */
const PASSED = ['LYCHD_CRYPT_REGISTRY', 'LYCHD_CRYPT_FAULT', 'CI', 'TERM', 'LANG'];

export function runAsOwner(drop: RunAsOwner, argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const script = process.argv[1];
  if (!script || !/^lychd-crypt(\.js)?$/.test(path.basename(script))) {
    throw new CryptError(`the crypt "${drop.cryptName}" is rootless: root runs its commands as ${drop.owner.user}, which needs the lychd-crypt runtime itself (not ${script ?? 'this process'})`, {
      hint: `Run it as ${drop.owner.user}, or through the installed lychd-crypt command.`,
    });
  }
  const { uid, gid, user, home } = drop.owner;
  const childEnv: NodeJS.ProcessEnv = {
    PATH: SAFE_PATH,
    HOME: home,
    USER: user,
    LOGNAME: user,
    XDG_RUNTIME_DIR: `/run/user/${uid}`,
    ...Object.fromEntries(PASSED.filter((k) => env[k] !== undefined).map((k) => [k, env[k]])),
  };
  const args = [`--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--', process.execPath, script, '--crypt', drop.cryptName, ...argv];
  return new Promise((resolve, reject) => {
    const child = spawn('setpriv', args, { stdio: 'inherit', env: childEnv, cwd: '/' });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      // Die the way the owner's process died, so callers (and tests that crash it on purpose) see the same.
      if (signal) void dieBySignal(signal);
      else resolve(code ?? 1);
    });
  });
}
