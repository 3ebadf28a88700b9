// Where the PostgreSQL programs (pg_ctl, pg_controldata, …) live: the configured bin, else PATH, else the
// newest Debian-style /usr/lib/postgresql/<major>/bin.
import { access, readdir, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { CryptError } from '../errors.js';

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function resolvePgBin(bin: string | null, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (bin) return bin;
  for (const dir of (env.PATH ?? '').split(':').filter(Boolean)) {
    if (await isExecutable(path.join(dir, 'pg_ctl'))) return dir;
  }
  const base = '/usr/lib/postgresql';
  const majors = (await readdir(base).catch(() => [] as string[])).filter((d) => /^\d+$/.test(d));
  for (const major of majors.sort((a, b) => Number(b) - Number(a))) {
    const dir = path.join(base, major, 'bin');
    if (await isExecutable(path.join(dir, 'pg_ctl'))) return dir;
  }
  throw new CryptError('cannot find the PostgreSQL programs (pg_ctl)', {
    hint: 'Set postgres.bin in the answers file (e.g. /usr/lib/postgresql/15/bin) and re-run init.',
  });
}

/** What is wrong with a configured postgres.bin (checked at init, not at the first snapshot), or undefined. */
export async function pgBinProblem(dir: string): Promise<string | undefined> {
  const st = await stat(dir).catch(() => undefined);
  if (!st) return `${dir} does not exist`;
  if (!st.isDirectory()) return `${dir} is not a directory`;
  if (!(await isExecutable(path.join(dir, 'pg_ctl')))) return `${dir} has no pg_ctl (expected the directory of the PostgreSQL programs)`;
  return undefined;
}

export function pgProgram(binDir: string, name: string): string {
  return path.join(binDir, name);
}
