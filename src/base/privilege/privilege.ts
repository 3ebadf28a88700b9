// Root running a runtime command on a rootless crypt re-runs it as the crypt's owner: a new process with
// the owner's uid, gid and groups and a minimal environment, so nothing root-only is ever done to files
// the owner controls. `systemctl --user` then reaches the owner's own service manager directly. That
// process leads a session of its own and never holds root's terminal (SPEC section 8): at a terminal it
// gets a pseudo-terminal root relays (base/privilege/owner-relay.ts), otherwise none (base/privilege/owner-stdio.ts).
import type { RunAsOwner } from '../crypt/access.js';
import { signalProcess, spawnInSession } from '../sys/process-group.js';
import { resolveCommand } from '../command-path.js';
import { selfArgv } from '../bundle/self.js';
import { CryptError } from '../errors.js';
import { SAFE_PATH } from '../runner.js';
import { dieBySignal } from '../die-by-signal.js';
import { superviseSession, sessionFds, type Ended } from './owner-session.js';
import { detectStdio, planOwnerStdio } from './owner-stdio.js';

/** What the owner's process gets from root's environment: only what selects the crypt and test hooks. */
const PASSED = ['LYCHD_CRYPT_REGISTRY', 'LYCHD_CRYPT_FAULT', 'CI', 'TERM', 'LANG'];

export async function runAsOwner(drop: RunAsOwner, argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const self = selfArgv();
  if (!self) {
    throw new CryptError(`the crypt "${drop.cryptName}" is rootless: root runs its commands as ${drop.owner.user}, which needs the lychd-crypt runtime itself (not ${process.argv[1] ?? 'this process'})`, {
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
  const setpriv = resolveCommand('setpriv', { PATH: SAFE_PATH });
  if (!setpriv) throw new CryptError(`cannot run as ${user}: setpriv (util-linux) is not installed`, { hint: 'Install util-linux.' });
  const args = ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--', ...self, '--crypt', drop.cryptName, ...argv];
  const launch = (fds: Parameters<typeof spawnInSession>[3]) => spawnInSession(setpriv, args, childEnv, fds);

  const plan = planOwnerStdio(detectStdio());
  let ended: Ended;
  if (plan.output !== null) {
    ended = await (await import('./owner-relay.js')).relayAsOwner(plan, launch);
  } else {
    const pid = await launch(sessionFds(plan, null));
    const pass = (sig: NodeJS.Signals) => () => void signalProcess(pid, sig);
    ended = await superviseSession(pid, { forward: { SIGINT: pass('SIGINT'), SIGTERM: pass('SIGTERM'), SIGHUP: pass('SIGHUP'), SIGQUIT: pass('SIGQUIT') } });
  }
  // Die the way the owner's process died, so callers (and tests that crash it on purpose) see the same.
  if (ended.kind === 'signaled') return dieBySignal(ended.signal);
  return ended.code;
}
