// What a PostgreSQL server the tool starts as its OS user inherits: that user's own HOME, USER and
// LOGNAME (from the passwd database) and `/` as working directory — never root's HOME or working
// directory, which the postmaster (and whatever it runs: archive_command, extensions, psql's files in
// HOME) would otherwise keep for its whole life.
import { lookupUser } from '../user.js';
import type { RunOptions, Runner } from '../runner.js';

export async function serverRunOptions(runner: Runner, uid: number): Promise<Pick<RunOptions, 'env' | 'cwd'>> {
  // An account without a passwd entry (a container's sub-UID) gets `/`: nothing of root's.
  const user = await lookupUser(runner, uid).catch(() => null);
  return { cwd: '/', env: { HOME: user?.home || '/', USER: user?.name, LOGNAME: user?.name, XDG_RUNTIME_DIR: undefined } };
}
