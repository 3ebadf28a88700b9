// Finding a program on PATH the way execvp(3) would, for the starts that go through posix_spawn (which
// takes a resolved path): run's COMMAND and hooks, and root's re-run as a crypt's owner.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** Where `file` is on `PATH` (as execvp would look), or null. */
export function resolveCommand(file: string, env: NodeJS.ProcessEnv): string | null {
  if (file.includes('/')) return file;
  for (const dir of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const p = path.join(dir || '.', file);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  return null;
}
