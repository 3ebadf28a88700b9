// pgdata.* and owners.*: PGDATA exists, it and every file in it carry C (nodatacow: database files are
// rewritten in place, and copy-on-write would fragment them), and owners and modes are as configured.
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { RepairStep } from '../model/steps.js';
import type { DoctorEnv } from './doctor-env.js';
import { entriesWithoutNocow } from './nocow-scan.js';
import { fixable, manual, ok, type Check } from './findings.js';
import { walkTree } from './walk.js';
import { nameOfUid } from './check-postgres.js';

const mode = (m: number) => `0${(m & 0o7777).toString(8)}`;

export async function checkActiveOwner(env: DoctorEnv): Promise<Check> {
  const id = 'owners.active';
  const c = env.config!.crypt;
  const st = await lstat(env.paths.active).catch(() => null);
  if (!st) return ok(id, 'active/ is missing (see layout.active)');
  if (st.uid !== c.uid || st.gid !== c.gid) {
    return fixable(id, `active/ is owned by ${st.uid}:${st.gid}, expected the crypt user ${c.user} (${c.uid}:${c.gid})`, `chown ${c.uid}:${c.gid} active/`, [
      { kind: 'set-owner', path: env.paths.active, owner: { uid: c.uid, gid: c.gid }, mode: null, recursive: false },
    ]);
  }
  return ok(id, `active/ is owned by ${c.user}`);
}

export async function checkPgdata(env: DoctorEnv): Promise<Check[]> {
  const pg = env.config!.postgres!;
  const pgdata = path.join(env.paths.active, pg.dir);
  const owner = { uid: pg.uid, gid: pg.gid };
  const st = await lstat(pgdata).catch(() => null);
  if (!st) {
    if (!(await lstat(env.paths.active).catch(() => null))) return [];
    return [fixable('pgdata.exists', `PGDATA ${pgdata} is missing`, 'create it empty with chattr +C, owned by the postgres OS user, 0700', [{ kind: 'create-pgdata', path: pgdata, owner, mode: 0o700 }])];
  }
  if (!st.isDirectory()) return [manual('pgdata.exists', `PGDATA ${pgdata} is not a directory`, 'move it away and run repair')];
  const checks: Check[] = [ok('pgdata.exists', `PGDATA ${pgdata} exists`)];
  const tree = await walkTree(pgdata);

  const noC = await entriesWithoutNocow(env.runner, tree);
  if (noC.length) {
    const names = noC.slice(0, 3).map((e) => (e.rel === '' ? `${pg.dir}/` : e.rel));
    checks.push(
      fixable('pgdata.nocow', `${noC.length} of ${tree.length} entries in PGDATA lack the C attribute (${names.join(', ')}${noC.length > 3 ? ', …' : ''})`, 'rewrite PGDATA, with the database stopped, into a fresh +C directory (real copies, verified), then swap it in atomically', [
        { kind: 'nocow-rewrite', pgdata, files: noC.length },
      ]),
    );
  } else checks.push(ok('pgdata.nocow', `PGDATA and its ${tree.length - 1} entries have the C attribute`));

  const steps: RepairStep[] = [];
  const findings: string[] = [];
  // PostgreSQL refuses to start unless PGDATA is its own and 0700 (or 0750 with group access).
  const topMode = st.mode & 0o7777;
  if (st.uid !== pg.uid || st.gid !== pg.gid || (topMode !== 0o700 && topMode !== 0o750)) {
    findings.push(`PGDATA is ${await nameOfUid(env.runner, st.uid)}, gid ${st.gid}, ${mode(st.mode)}; expected ${pg.osUser} (${pg.uid}:${pg.gid}) 0700`);
  }
  const foreign = tree.filter((e) => e.rel !== '' && e.st.uid !== pg.uid);
  if (foreign.length) findings.push(`${foreign.length} entries in PGDATA are not owned by ${pg.osUser} (e.g. ${foreign[0]!.rel})`);
  if (findings.length) {
    steps.push({ kind: 'set-owner', path: pgdata, owner, mode: topMode === 0o750 ? 0o750 : 0o700, recursive: foreign.length > 0 });
    checks.push(fixable('owners.pgdata', findings.join('; '), `chown ${foreign.length ? '-R ' : ''}${pg.uid}:${pg.gid} and chmod 0700 PGDATA`, steps));
  } else checks.push(ok('owners.pgdata', `PGDATA is owned by ${await nameOfUid(env.runner, st.uid)}, ${mode(st.mode)}`));
  return checks;
}
