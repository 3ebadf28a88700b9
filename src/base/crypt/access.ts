// Who may run what on a crypt (SPEC section 8). system: root only, and everyone else is told the exact
// command. rootless: the owner; root drops to the owner's uid first, so it never acts on the owner's files
// with root's power.
import type { Config } from '../../model/config.js';
import { RefusedError } from '../errors.js';
import { shellLine, shellWord } from '../output/text.js';
import { retyped } from '../output/hint.js';

/** Root asked to run a runtime command on a rootless crypt: re-run it as the owner (see base/privilege/privilege.ts). */
export class RunAsOwner extends Error {
  constructor(
    readonly owner: { uid: number; gid: number; user: string; home: string },
    readonly cryptName: string,
  ) {
    super(`run as ${owner.user}`);
  }
}

/** The command that has root repair the crypt: what its owner is told when only root can fix something (pasteable() adds the registry). */
export function rootRepairCommand(cryptName: string): string {
  return `sudo lychd-crypt repair --crypt ${shellWord(cryptName)}`;
}

export function checkAccess(config: Config, callerUid: number, command: string, argv: string[]): void {
  const c = config.crypt;
  if (callerUid === 0) {
    if (config.profile === 'rootless') throw new RunAsOwner({ uid: c.uid, gid: c.gid, user: c.user, home: c.home }, c.name);
    return;
  }
  if (config.profile === 'rootless' && callerUid === c.uid) return;
  if (config.profile === 'system') {
    throw new RefusedError(
      `\`${command}\` on the crypt "${c.name}" needs root: its PostgreSQL runs as the system service of ${config.postgres?.osUser ?? 'another user'} (profile system); nothing was changed`,
      { hint: `Run: sudo ${shellLine(['lychd-crypt', ...retyped(argv)])}` },
    );
  }
  throw new RefusedError(`the crypt "${c.name}" belongs to ${c.user}; only ${c.user} (or root) may run \`${command}\` on it; nothing was changed`, {
    hint: `Ask ${c.user} to run it, or run it as root (it then acts as ${c.user}).`,
  });
}
