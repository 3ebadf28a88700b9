// Where a user's crypt is by default: ${XDG_DATA_HOME:-$HOME/.local/share}/lychd of the target user.
import path from 'node:path';
import type { UserInfo } from '../user.js';

/** XDG_DATA_HOME counts only when the caller is the target user: root's (or sudo's) would be wrong. */
export function defaultCryptPath(user: UserInfo, env: NodeJS.ProcessEnv, callerUid: number): string {
  const xdg = callerUid === user.uid && env.XDG_DATA_HOME?.startsWith('/') ? env.XDG_DATA_HOME : undefined;
  return path.join(xdg ?? path.join(user.home, '.local/share'), 'lychd');
}
