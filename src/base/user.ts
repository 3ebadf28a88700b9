// Resolves the target user from the passwd database (never from root's environment).
import { UsageError } from './errors.js';
import { failedCommand, type Runner } from './runner.js';

export interface UserInfo {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** `getent passwd` honours NSS (LDAP, sssd), unlike reading /etc/passwd. */
export async function lookupUser(runner: Runner, nameOrUid: string | number): Promise<UserInfo> {
  const r = await runner.run(['getent', 'passwd', String(nameOrUid)], { allowFailure: true });
  // getent says 2 for "not in the database"; anything else (it could not run, NSS failed) is not the user's
  // mistake and must not read as one.
  if (r.exitCode !== 0 && r.exitCode !== 2) throw failedCommand(r);
  const fields = r.stdout.trim().split('\n')[0]?.split(':');
  if (r.exitCode !== 0 || !fields || fields.length < 7) {
    throw new UsageError(`no such user: ${nameOrUid}`, { hint: 'Name an existing account (--user, or crypt.user in the answers file).' });
  }
  return { name: fields[0]!, uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5]! };
}

/** --user, else SUDO_USER (the human behind sudo), else the caller. */
export async function detectTargetUser(runner: Runner, flag: string | undefined, env: NodeJS.ProcessEnv): Promise<UserInfo> {
  const sudoUser = env.SUDO_USER && env.SUDO_USER !== 'root' ? env.SUDO_USER : undefined;
  return lookupUser(runner, flag ?? sudoUser ?? process.getuid?.() ?? 0);
}
