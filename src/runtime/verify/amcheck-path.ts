// Where verify finds pg_amcheck: beside the cluster's own pg_ctl (the real file, not a wrapper on PATH),
// else in Debian's /usr/lib/postgresql/<major>/bin for the snapshot's major version. Never a PATH wrapper
// such as Debian's /usr/bin/pg_amcheck (pg_wrapper picks a version by its own rules, not the clone's).
import { access, realpath } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';

const executable = (p: string): Promise<boolean> => access(p, constants.X_OK).then(() => true, () => false);

/** The directories to look in, in order (pure). */
export function amcheckDirs(bin: string, realPgCtlDir: string | null, major: number): string[] {
  return [...new Set([bin, ...(realPgCtlDir ? [realPgCtlDir] : []), `/usr/lib/postgresql/${major}/bin`])];
}

export async function findAmcheck(bin: string, major: number, isExecutable = executable): Promise<{ path: string | null; looked: string[] }> {
  const real = await realpath(path.join(bin, 'pg_ctl')).then((p) => path.dirname(p), () => null);
  const looked = amcheckDirs(bin, real, major);
  for (const dir of looked) {
    const p = path.join(dir, 'pg_amcheck');
    if (await isExecutable(p)) return { path: p, looked };
  }
  return { path: null, looked };
}

/** What to change when there is none: exactly which setting, and the package that ships it. */
export function noAmcheckDetail(looked: string[], major: number): string {
  return `skipped: no pg_amcheck in ${looked.join(', ')}. It ships with PostgreSQL ${major} (Debian: postgresql-${major}); if it is installed elsewhere, set postgres.bin in the answers file to the directory holding both pg_ctl and pg_amcheck of PostgreSQL ${major} (e.g. /usr/lib/postgresql/${major}/bin) and run \`lychd-crypt init --answers FILE\` again`;
}
