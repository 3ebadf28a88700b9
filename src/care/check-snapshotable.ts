// layout.nested and pgdata.wal: what an atomic snapshot of active/ would silently miss. A snapshot stops at
// nested subvolumes and mount points, and at symlinks (a pg_wal or tablespace elsewhere), so the snapshot
// would hold data without its WAL or tables: the Ritual refuses then; doctor says so beforehand.
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { listNestedSubvolumes } from '../base/btrfs/index.js';
import type { DoctorEnv } from './doctor-env.js';
import { manual, ok, type Check } from './findings.js';
import { nsOp } from '../base/userns/helper.js';
import { onTree } from '../base/userns/tree.js';

export async function checkNested(env: DoctorEnv): Promise<Check> {
  const id = 'layout.nested';
  const nested = await listNestedSubvolumes(env.paths.active, env.runner);
  if (!nested.length) return ok(id, 'no nested subvolumes or mounts inside active/');
  const list = nested.map((n) => `active/${n.path} (${n.kind})`).join(', ');
  return manual(id, `snapshots of active/ would not include ${list}`, 'move the data into a plain directory inside active/ (a nested subvolume: create a directory and cp -a --reflink=always into it; a mount: mount it elsewhere)');
}

/** pg_wal's kind and the tablespaces, where PGDATA's owner may look (base/userns/tree.ts). */
export const walFactsOp = nsOp('wal-facts', async (_ctx, pgdata: string) => {
  const wal = await lstat(path.join(pgdata, 'pg_wal')).catch(() => null);
  const tblspc = await readdir(path.join(pgdata, 'pg_tblspc')).catch(() => [] as string[]);
  return { wal: wal ? (wal.isSymbolicLink() ? 'symlink' : wal.isDirectory() ? 'dir' : 'other') : null, tablespaces: tblspc.length };
});

export async function checkWal(env: DoctorEnv): Promise<Check> {
  const id = 'pgdata.wal';
  const pgdata = path.join(env.paths.active, env.config!.postgres!.dir);
  const f = await onTree(pgdata, env.runner, walFactsOp, pgdata);
  if (!f.wal) return ok(id, 'no pg_wal yet (empty PGDATA)');
  const problems: string[] = [];
  if (f.wal === 'symlink') problems.push('pg_wal is a symlink (WAL lives outside the snapshot)');
  if (f.tablespaces) problems.push(`${f.tablespaces} tablespace(s) in pg_tblspc (their files live outside PGDATA)`);
  if (!problems.length) return ok(id, 'pg_wal is a real directory inside PGDATA; no tablespaces elsewhere');
  return manual(id, `snapshots cannot hold the whole database: ${problems.join('; ')}`, 'move pg_wal back into PGDATA (with the server stopped) and the tablespaces into the default one (ALTER TABLE … SET TABLESPACE pg_default)');
}
