// Makes a writable clone of the target fit to become active/: PostgreSQL must start on it as after a
// crash (crash recovery to the snapshot instant), so a stale postmaster.pid, a backup_label (whose end
// LSN lies after the snapshot) and recovery/standby signals must not be there; and PGDATA must still be
// nodatacow, owned by the postgres user, 0700.
//
// The clone's contents come from active/, which its user controls: PGDATA may be a symbolic link, or
// lead through one. So the clone is locked first (root-owned 0700 while root works in it, when root
// runs this), PGDATA is opened without following links, checked, and only then cleaned, fd-relative.
import { stat } from 'node:fs/promises';
import type { PostgresConfig } from '../../model/config.js';
import type { SnapshotMeta } from '../../model/snapshot-meta.js';
import { CryptError } from '../../base/errors.js';
import { nsOp } from '../../base/userns/helper.js';
import { hostUid } from '../../base/userns/view.js';
import { chownDir, closeDir, FdError, FS_NOCOW_FL, inodeFlags, NotFollowedError, openDir, setInodeFlags, unlinkAt, type Dir } from '../../base/sys/fd.js';

export const STALE_FILES = ['postmaster.pid', 'recovery.signal', 'standby.signal', 'backup_label', 'tablespace_map'];

/**
 * The files a restore of this snapshot removes: a snapshot that carries its own WAL copy (the live WAL was
 * outside the crypt, docs/wal.md) keeps the backup_label and tablespace_map written with it — its WAL ends
 * at their stop LSN, so backup recovery is what makes it consistent.
 */
export function staleFilesFor(meta: SnapshotMeta | undefined): string[] {
  return meta?.postgres?.wal?.label === 'own' ? STALE_FILES.filter((f) => f !== 'backup_label' && f !== 'tablespace_map') : STALE_FILES;
}

const refuse = (what: string) =>
  new CryptError(`the snapshot's PGDATA ${what}; nothing was changed (the staging copy is removed)`, {
    hint: 'Run `lychd-crypt doctor` on the crypt; `repair` fixes owners, modes and the C attribute of active/.',
  });

/** While root works inside a clone its user could enter, the clone's top is root's alone; `release` gives it back. */
export async function lockClone(clone: string): Promise<{ dir: Dir; release: () => Promise<void> }> {
  const dir = await openDir(clone);
  // Real root only: root of the owner's user namespace (the helper) is the owner, who owns the clone anyway.
  if (hostUid(process.getuid?.() ?? -1) !== 0) return { dir, release: () => closeDir(dir) };
  const st = await stat(dir.anchor);
  await chownDir(dir, 0, 0, 0o700);
  return {
    dir,
    release: async () => {
      await chownDir(dir, st.uid, st.gid, st.mode & 0o7777);
      await closeDir(dir);
    },
  };
}

/** Opens PGDATA inside a clone without following links; null when the clone holds no PGDATA (no cluster yet). */
async function openPgdata(clone: Dir, dir: string): Promise<Dir | null> {
  try {
    return await openDir(dir, clone);
  } catch (e) {
    if (e instanceof FdError && e.errno === 2) return null;
    if (e instanceof NotFollowedError) throw refuse(`${dir} is a symbolic link or leads through one (it is not followed)`);
    throw e;
  }
}

/**
 * The clone at `clone` (a path) made fit: locked, PGDATA checked and cleaned, released. Where PGDATA's
 * owner may (the owner's user namespace for a container's PGDATA: base/userns/tree.ts).
 */
export const prepareStagingOp = nsOp('staging-prepare', async (_ctx, clone: string, pg: PostgresConfig, opts: PrepareOptions = {}): Promise<string[]> => {
  const locked = await lockClone(clone);
  try {
    return await prepareStagingPgdata(locked.dir, pg, opts);
  } finally {
    await locked.release();
  }
});

/** restored: a snapshot received from another host; stale: the files to remove (staleFilesFor). */
export interface PrepareOptions {
  restored?: boolean;
  stale?: string[];
}

/**
 * Checks PGDATA in the clone, then removes the stale files; returns what it removed. restored: a snapshot
 * received from a target (a send stream carries no C attribute): PGDATA gets it back on its directory (new
 * files inherit it) instead of a refusal; the files it holds stay copy-on-write until repair rewrites them.
 */
export async function prepareStagingPgdata(clone: Dir, pg: PostgresConfig, { restored = false, stale = STALE_FILES }: PrepareOptions = {}): Promise<string[]> {
  const pgdata = await openPgdata(clone, pg.dir);
  if (!pgdata) return [];
  try {
    const st = await stat(pgdata.anchor);
    const problems: string[] = [];
    // Host ids (in the owner's user namespace a container's uid shows as another number).
    if (hostUid(st.uid) !== pg.uid) problems.push(`is owned by uid ${hostUid(st.uid)}, not ${pg.osUser} (${pg.uid})`);
    if ((st.mode & 0o077) & ~0o050) problems.push(`has mode ${(st.mode & 0o777).toString(8)}, not 0700`);
    const flags = await inodeFlags(pgdata);
    if (!(flags & FS_NOCOW_FL)) {
      if (restored) await setInodeFlags(pgdata, flags | FS_NOCOW_FL);
      else problems.push('lost the C (nodatacow) attribute');
    }
    if (problems.length) throw refuse(problems.join(', '));
    const removed: string[] = [];
    for (const f of stale) if (await unlinkAt(pgdata, f)) removed.push(f);
    return removed;
  } finally {
    await closeDir(pgdata);
  }
}
