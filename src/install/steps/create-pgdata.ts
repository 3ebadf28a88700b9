// create-pgdata: PGDATA made or corrected — mkdir, chattr +C while empty, chown, chmod — each on a
// descriptor opened without following links: through the checked filesystem (init), or from the crypt
// as opened for the command (repair: an fd anchor for root). A container's PGDATA is made its user's and
// left alone once the container's postgres has it.
import { fstatSync } from 'node:fs';
import { lstat, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Owner } from '../../model/config.js';
import { chownDir, closeDir, FS_NOCOW_FL, inodeFlags, openDir, setInodeFlags, type Dir } from '../../base/sys/fd.js';
import { openTrustedDirOrThrow } from '../../base/sys/trusted-path.js';
import { verifyOp } from './crypt-fs.js';
import { withParent } from './parent.js';
import { changed, octal, satisfied, seq, unchanged, wouldChange, type Outcome, type StepModule, type StepOf } from './module.js';

/** Owned by the ids a container's postgres has (`taken`): its owner and mode are the server's business then. */
const takenBy = (st: { uid: number; gid: number }, taken: Owner | undefined): boolean => taken !== undefined && st.uid === taken.uid && st.gid === taken.gid;

/** mkdir, chattr +C while empty, chown, chmod — each on a descriptor opened without following links. */
async function pgdataIn(parent: Dir, name: string, shown: string, owner: Owner, mode: number, taken?: Owner): Promise<Outcome> {
  const st = await lstat(`${parent.anchor}/${name}`).catch(() => null);
  if (st && !st.isDirectory()) throw new Error(`${shown} exists but is not a directory`);
  if (!st) await mkdir(`${parent.anchor}/${name}`, { mode }); // mkdir never follows its last component
  const dir = await openDir(name, parent);
  try {
    const flags = await inodeFlags(dir);
    if (!st) {
      // +C only affects files created afterwards; on an empty directory that is all of them.
      await setInodeFlags(dir, flags | FS_NOCOW_FL);
      await chownDir(dir, owner.uid, owner.gid, mode);
      return changed();
    }
    const now = fstatSync(dir.fd);
    const fixes: string[] = [];
    if (!takenBy(now, taken)) {
      if (now.uid !== owner.uid || now.gid !== owner.gid) fixes.push('owner');
      if ((now.mode & 0o7777) !== mode) fixes.push('mode');
      if (fixes.length) await chownDir(dir, owner.uid, owner.gid, mode);
    }
    let warning = '';
    if (!(flags & FS_NOCOW_FL)) {
      if ((await readdir(dir.anchor)).length === 0) {
        await setInodeFlags(dir, flags | FS_NOCOW_FL);
        fixes.push('nodatacow');
      } else {
        warning = '; warning: not nodatacow and not empty, its files stay copy-on-write';
      }
    }
    return fixes.length ? changed(fixes.join(', ') + warning) : unchanged(`exists${warning}`);
  } finally {
    await closeDir(dir);
  }
}

export const createPgdata: StepModule<StepOf<'create-pgdata'>> = {
  describe: (s) =>
    seq(
      `create PGDATA ${s.path} (nodatacow)`,
      s.fs ? verifyOp(s.fs) : { op: `open ${path.dirname(s.path)} without following a symbolic link` },
      { op: `mkdir ${s.path}` },
      { op: `chattr +C ${s.path} (FS_IOC_SETFLAGS, while it is empty)` },
      { op: `chown ${s.owner.uid}:${s.owner.gid} ${s.path}${s.taken ? ` (unless it is the container's postgres's already, ${s.taken.uid}:${s.taken.gid}: then as it is)` : ''}` },
      { op: `chmod ${octal(s.mode)} ${s.path}` },
    ),
  async probe(s) {
    const st = await lstat(s.path).catch(() => null);
    if (!st) return wouldChange();
    const fixes: string[] = [];
    if (!takenBy(st, s.taken)) {
      if (st.uid !== s.owner.uid || st.gid !== s.owner.gid) fixes.push('owner');
      if ((st.mode & 0o7777) !== s.mode) fixes.push('mode');
    }
    const dir = await openTrustedDirOrThrow(s.path);
    try {
      if (!((await inodeFlags(dir)) & FS_NOCOW_FL) && (await readdir(dir.anchor)).length === 0) fixes.push('nodatacow');
    } finally {
      await closeDir(dir);
    }
    return fixes.length ? wouldChange(`correct its ${fixes.join(', ')}`) : satisfied('exists');
  },
  apply: (s) => withParent(s.path, s.fs, (parent, name) => pgdataIn(parent, name, s.path, s.owner, s.mode, s.taken)),
};
