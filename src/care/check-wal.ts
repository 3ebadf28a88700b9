// pgdata.wal and wal.dir with an outside WAL (postgres.walDir, docs/wal.md): active/'s pg_wal must be the link
// to its own generation `<walDir>/gen-<UUID of active/>`, a real directory of the server's user, 0700; walDir
// must pass the placement rules (outside the crypt, not on a loop device or tmpfs, owned by root or the owner,
// writable by nobody else); a generation no state links to is a stray (repair removes it, by its gen- name).
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { subvolumeShow } from '../base/btrfs/subvolume.js';
import { genPath } from '../base/wal/generation.js';
import { genName, isGenName, judgeWalPlacement, readWalPlacement } from '../base/wal/placement.js';
import type { DoctorEnv } from './doctor-env.js';
import { fixable, manual, ok, type Check } from './findings.js';

export async function checkOutsideWal(env: DoctorEnv): Promise<Check> {
  const id = 'pgdata.wal';
  const pg = env.config!.postgres!;
  const walDir = pg.walDir!;
  const pgdata = path.join(env.paths.active, pg.dir);
  const wal = path.join(pgdata, 'pg_wal');
  const st = await lstat(wal).catch(() => null);
  if (!st) return ok(id, 'no pg_wal yet (empty PGDATA)');
  const expected = genPath(walDir, (await subvolumeShow(env.runner, env.paths.active)).uuid);
  if (!st.isSymbolicLink()) {
    return manual(id, `the live WAL is inside the crypt (pg_wal is a real directory), not in ${expected} as postgres.walDir says`, `with the server stopped: mv ${wal} ${expected} && ln -s ${expected} ${wal} (owner and mode kept), then start it; or remove postgres.walDir from the answers and run init again`);
  }
  const target = await readlink(wal);
  if (target !== expected) {
    return manual(id, `pg_wal links to ${target}, not to active/'s own WAL generation ${expected}`, `with the server stopped, point the link at the generation that holds this state's WAL (ln -sfn … ${wal}); if it is lost, roll back to the newest snapshot (lychd-crypt rollback …)`);
  }
  const gen = await lstat(expected).catch(() => null);
  if (!gen?.isDirectory()) {
    return manual(id, `the live WAL directory ${expected} is ${gen ? 'not a directory' : 'missing'}: the live database has lost its WAL`, 'roll back to the newest snapshot (`lychd-crypt rollback <name>`); never pg_resetwal');
  }
  const problems: string[] = [];
  if (gen.uid !== pg.uid) problems.push(`owned by uid ${gen.uid}, not ${pg.osUser} (${pg.uid})`);
  if ((gen.mode & 0o777) !== 0o700) problems.push(`mode ${(gen.mode & 0o777).toString(8)}, not 700`);
  if (problems.length) {
    return fixable(id, `the live WAL directory ${expected} is ${problems.join(', ')}`, `chown -R ${pg.uid}:${pg.gid} and chmod 0700 it`, [
      { kind: 'set-owner', path: expected, owner: { uid: pg.uid, gid: pg.gid }, mode: 0o700, recursive: true },
    ]);
  }
  return ok(id, `pg_wal links to active/'s own WAL generation ${expected} (postgres.walDir)`);
}

export async function checkWalDir(env: DoctorEnv): Promise<Check> {
  const id = 'wal.dir';
  const config = env.config!;
  const walDir = config.postgres!.walDir!;
  const facts = await readWalPlacement(walDir, config.crypt.path);
  const problems = judgeWalPlacement({ ...facts, entries: null }, { cryptPath: config.crypt.path, ownerUid: config.crypt.uid });
  if (!facts.walDirExists) problems.push(`${walDir} does not exist`);
  if (problems.length) return manual(id, `postgres.walDir: ${problems.join('; ')}`, 'choose a walDir on the host\'s own filesystem, owned by root (or the crypt\'s owner), not writable by others (docs/wal.md)');
  const live = await readlink(path.join(env.paths.active, config.postgres!.dir, 'pg_wal')).catch(() => null);
  const active = genName((await subvolumeShow(env.runner, env.paths.active)).uuid);
  const entries = await readdir(walDir);
  const foreign = entries.filter((n) => !isGenName(n));
  const strays = entries.filter((n) => isGenName(n) && n !== active && path.join(walDir, n) !== live);
  if (strays.length) {
    return fixable(id, `${strays.length} WAL generation(s) under ${walDir} belong to no state: ${strays.join(', ')}`, 'remove them', strays.map((n) => ({ kind: 'remove-tree' as const, path: path.join(walDir, n), why: `the stray WAL generation ${n}` })));
  }
  if (foreign.length) return manual(id, `${walDir} holds ${foreign.map((n) => JSON.stringify(n)).join(', ')}, which are not WAL generations of this crypt`, 'move them elsewhere: only gen-* directories belong there');
  return ok(id, `${walDir} is on ${facts.fstype} (${facts.source}), outside the crypt; it holds active/'s generation only`);
}
