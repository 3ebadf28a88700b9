// Makes a writable clone of the target fit to become active/: PostgreSQL must start on it as after a
// crash (crash recovery to the snapshot instant), so a stale postmaster.pid, a backup_label (whose end
// LSN lies after the snapshot) and recovery/standby signals must not be there; and PGDATA must still be
// nodatacow, owned by the postgres user, 0700.
import { lstat, rm } from 'node:fs/promises';
import path from 'node:path';
import type { PostgresConfig } from '../config/config.js';
import { CryptError } from '../core/errors.js';
import type { Runner } from '../core/runner.js';

export const STALE_FILES = ['postmaster.pid', 'recovery.signal', 'standby.signal', 'backup_label', 'tablespace_map'];

export async function cleanStagingPgdata(stagingPgdata: string): Promise<string[]> {
  const removed: string[] = [];
  for (const f of STALE_FILES) {
    const file = path.join(stagingPgdata, f);
    const there = await lstat(file).then(() => true, () => false);
    if (there) {
      await rm(file, { force: true });
      removed.push(f);
    }
  }
  return removed;
}

export async function checkStagingPgdata(runner: Runner, stagingPgdata: string, pg: PostgresConfig): Promise<void> {
  const st = await lstat(stagingPgdata).catch(() => null);
  if (!st) return; // the snapshot holds no PGDATA (a crypt without a cluster yet): nothing to check
  const problems: string[] = [];
  if (!st.isDirectory()) problems.push('is not a directory');
  if (st.uid !== pg.uid) problems.push(`is owned by uid ${st.uid}, not ${pg.osUser} (${pg.uid})`);
  if ((st.mode & 0o077) & ~0o050) problems.push(`has mode ${(st.mode & 0o777).toString(8)}, not 0700`);
  const attrs = await runner.run(['lsattr', '-d', stagingPgdata]);
  if (!/^\S*C/.test(attrs.stdout)) problems.push('lost the C (nodatacow) attribute');
  if (problems.length) {
    throw new CryptError(`the snapshot's PGDATA ${problems.join(', ')}; nothing was changed (the staging copy is removed)`, {
      hint: 'Run `lychd-crypt doctor` on the crypt; `repair` fixes owners, modes and the C attribute of active/.',
    });
  }
}
