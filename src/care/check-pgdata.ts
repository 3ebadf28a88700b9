// pgdata.* and owners.*: PGDATA exists, it and every file in it carry C (nodatacow: database files are
// rewritten in place, and copy-on-write would fragment them), and owners and modes are as configured.
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { RepairStep } from '../model/steps.js';
import type { PostgresConfig } from '../model/config.js';
import { nsOp } from '../base/userns/helper.js';
import { onTree, ownIds } from '../base/userns/tree.js';
import { rootlessMap, toInner } from '../base/userns/ids.js';
import { hostGid, hostUid } from '../base/userns/view.js';
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

/** What the checks need of PGDATA's tree, gathered where its owner may look (base/userns/tree.ts); ids are the host's. */
export interface PgdataFacts {
  /** null: PGDATA does not exist; else its type, owner and mode. */
  top: { dir: boolean; uid: number; gid: number; mode: number } | null;
  /** Entries, PGDATA itself included. */
  entries: number;
  /** Relative names of the entries without C (all of them), '' being PGDATA. */
  withoutC: string[];
  /** Entries below PGDATA not owned by `owner`: how many, and the first one. */
  foreign: { count: number; first: string | null };
}

export const pgdataFactsOp = nsOp('pgdata-facts', async (ctx, pgdata: string, owner: number): Promise<PgdataFacts> => {
  const st = await lstat(pgdata).catch(() => null);
  if (!st || !st.isDirectory()) return { top: st ? { dir: false, uid: hostUid(st.uid), gid: hostGid(st.gid), mode: st.mode } : null, entries: 0, withoutC: [], foreign: { count: 0, first: null } };
  const tree = await walkTree(pgdata);
  const noC = await entriesWithoutNocow(ctx.runner, tree);
  const foreign = tree.filter((e) => e.rel !== '' && hostUid(e.st.uid) !== owner);
  return {
    top: { dir: true, uid: hostUid(st.uid), gid: hostGid(st.gid), mode: st.mode },
    entries: tree.length,
    withoutC: noC.map((e) => e.rel),
    foreign: { count: foreign.length, first: foreign[0]?.rel ?? null },
  };
});

export async function checkPgdata(env: DoctorEnv): Promise<Check[]> {
  const pg = env.config!.postgres!;
  const pgdata = path.join(env.paths.active, pg.dir);
  const owner = { uid: pg.uid, gid: pg.gid };
  const facts = await onTree(pgdata, env.runner, pgdataFactsOp, pgdata, pg.uid);
  const st = facts.top;
  if (!st) {
    if (!(await lstat(env.paths.active).catch(() => null))) return [];
    // A container's PGDATA is made for the container's first start, which gives it to its user (`:U`).
    const make = pg.container ? { ...owner, uid: env.config!.crypt.uid, gid: env.config!.crypt.gid } : owner;
    return [fixable('pgdata.exists', `PGDATA ${pgdata} is missing`, `create it empty with chattr +C, owned by ${pg.container ? 'the crypt user (the container\'s first start takes it)' : 'the postgres OS user'}, 0700`, [{ kind: 'create-pgdata', path: pgdata, owner: make, mode: 0o700, ...(pg.container ? { taken: owner } : {}) }])];
  }
  if (!st.dir) return [manual('pgdata.exists', `PGDATA ${pgdata} is not a directory`, 'move it away and run repair')];
  const checks: Check[] = [ok('pgdata.exists', `PGDATA ${pgdata} exists`)];

  const noC = facts.withoutC;
  if (noC.length) {
    const names = noC.slice(0, 3).map((rel) => (rel === '' ? `${pg.dir}/` : rel));
    checks.push(
      fixable('pgdata.nocow', `${noC.length} of ${facts.entries} entries in PGDATA lack the C attribute (${names.join(', ')}${noC.length > 3 ? ', …' : ''})`, 'rewrite PGDATA, with the database stopped, into a fresh +C directory (real copies, verified), then swap it in atomically', [
        { kind: 'nocow-rewrite', pgdata, files: noC.length },
      ]),
    );
  } else checks.push(ok('pgdata.nocow', `PGDATA and its ${facts.entries - 1} entries have the C attribute`));
  checks.push(pg.container ? containerOwners(env, st, facts) : await hostOwners(env, pg, pgdata, st, facts));
  return checks;
}

/** PostgreSQL refuses to start unless PGDATA is its own and 0700 (or 0750 with group access). */
async function hostOwners(env: DoctorEnv, pg: PostgresConfig, pgdata: string, st: NonNullable<PgdataFacts['top']>, facts: PgdataFacts): Promise<Check> {
  const findings: string[] = [];
  const topMode = st.mode & 0o7777;
  if (st.uid !== pg.uid || st.gid !== pg.gid || (topMode !== 0o700 && topMode !== 0o750)) {
    findings.push(`PGDATA is ${await nameOfUid(env.runner, st.uid)}, gid ${st.gid}, ${mode(st.mode)}; expected ${pg.osUser} (${pg.uid}:${pg.gid}) 0700`);
  }
  if (facts.foreign.count) findings.push(`${facts.foreign.count} entries in PGDATA are not owned by ${pg.osUser} (e.g. ${facts.foreign.first})`);
  if (!findings.length) return ok('owners.pgdata', `PGDATA is owned by ${await nameOfUid(env.runner, st.uid)}, ${mode(st.mode)}`);
  const steps: RepairStep[] = [{ kind: 'set-owner', path: pgdata, owner: { uid: pg.uid, gid: pg.gid }, mode: topMode === 0o750 ? 0o750 : 0o700, recursive: facts.foreign.count > 0 }];
  return fixable('owners.pgdata', findings.join('; '), `chown ${facts.foreign.count ? '-R ' : ''}${pg.uid}:${pg.gid} and chmod 0700 PGDATA`, steps);
}

/**
 * A container's PGDATA belongs to the container's postgres as the owner's podman maps it (a subordinate uid:
 * healthy), or — empty, before the container's first start — to the crypt user. Never changed by doctor or
 * repair: the container's own `:U` (or `podman unshare chown`) sets it, inside the owner's namespace.
 */
function containerOwners(env: DoctorEnv, st: NonNullable<PgdataFacts['top']>, facts: PgdataFacts): Check {
  const pg = env.config!.postgres!;
  const c = env.config!.crypt;
  const topMode = st.mode & 0o7777;
  const mapped = `container uid ${pg.osUser}, host uid ${pg.uid}`;
  if (facts.entries === 1 && st.uid === c.uid) return ok('owners.pgdata', `PGDATA is empty and ${c.user}'s: the container's first start gives it to its postgres (${mapped})`);
  const findings: string[] = [];
  if (st.uid !== pg.uid || st.gid !== pg.gid) findings.push(`PGDATA belongs to ${st.uid}:${st.gid}, not to the container's postgres (${mapped}, gid ${pg.gid})`);
  if (topMode !== 0o700 && topMode !== 0o750) findings.push(`PGDATA has mode ${mode(st.mode)}, not 0700`);
  if (facts.foreign.count) findings.push(`${facts.foreign.count} entries in PGDATA do not belong to the container's postgres (e.g. ${facts.foreign.first})`);
  if (!findings.length) return ok('owners.pgdata', `PGDATA belongs to the container's postgres (${mapped}), ${mode(st.mode)}`);
  // `podman unshare` speaks the ids of the owner's namespace (the owner 0, its subordinate ids from 1).
  const ids = ownIds();
  const nsUid = toInner(rootlessMap(ids.uid, ids.subuids), pg.uid) ?? pg.uid;
  const nsGid = toInner(rootlessMap(ids.gid, ids.subgids), pg.gid) ?? pg.gid;
  return manual(
    'owners.pgdata',
    findings.join('; '),
    `as ${c.user}: \`podman unshare chown -R ${nsUid}:${nsGid} ${path.join(env.paths.active, pg.dir)}\` (inside your user namespace; or start the container, whose \`:U\` does it), then \`podman unshare chmod 0700\` it`,
  );
}
