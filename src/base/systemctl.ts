// Whose service manager runs a crypt's scheduled units. A system crypt: root's (/etc/systemd/system or
// persist.unitDir). A rootless crypt: its owner's user manager (~/.config/systemd/user), since every
// runtime command on it runs as the owner; lingering keeps that manager running without a login session.
import path from 'node:path';
import type { UnitOwner } from '../model/config.js';

/** The owner's own unit directory, where `systemctl --user` finds units without a link. */
export function userUnitDir(home: string): string {
  return path.join(home, '.config/systemd/user');
}

/** `systemctl` and its scope: root reaches a user's manager through machined (`-M user@`), the user its own. */
export function systemctlArgv(user: UnitOwner | undefined, ...args: string[]): string[] {
  if (!user) return ['systemctl', ...args];
  return process.getuid?.() === 0 && user.uid !== 0 ? ['systemctl', '--user', '-M', `${user.name}@`, ...args] : ['systemctl', '--user', ...args];
}
