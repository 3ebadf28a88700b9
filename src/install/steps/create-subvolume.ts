// create-subvolume: a Btrfs subvolume (BTRFS_IOC_SUBVOL_CREATE) made through the checked filesystem's
// descriptor (see crypt-fs.ts), and its owner set.
import { fstatSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { chownDir, closeDir, createSubvolumeAt, openDir } from '../../base/sys/fd.js';
import { verifyOp, withinCryptFs } from './crypt-fs.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

/** Btrfs subvolumes have inode number 256. */
export async function isSubvolume(p: string): Promise<boolean | null> {
  const st = await lstat(p).catch(() => null);
  if (!st) return null;
  return st.isDirectory() && st.ino === 256;
}

export const createSubvolume: StepModule<StepOf<'create-subvolume'>> = {
  describe: (s) =>
    seq(
      `create subvolume ${s.path}`,
      verifyOp(s.fs),
      { op: `create the subvolume ${s.path} (BTRFS_IOC_SUBVOL_CREATE, what \`btrfs subvolume create\` does)` },
      { op: `chown ${s.owner.uid}:${s.owner.gid} ${s.path}` },
    ),
  async probe(s) {
    const sub = await isSubvolume(s.path);
    if (sub === false) return wouldChange('exists but is not a subvolume: init will refuse');
    if (!sub) return wouldChange();
    const st = await lstat(s.path);
    return st.uid === s.owner.uid && st.gid === s.owner.gid ? satisfied('exists') : wouldChange('correct its owner');
  },
  apply: (s) =>
    withinCryptFs(s.fs, path.dirname(s.path), async (parent) => {
      const name = path.basename(s.path);
      const sub = await isSubvolume(`${parent.anchor}/${name}`);
      if (sub === false) throw new Error(`${s.path} exists but is not a Btrfs subvolume`);
      if (!sub) await createSubvolumeAt(parent, name);
      const dir = await openDir(name, parent);
      try {
        const st = fstatSync(dir.fd);
        if (sub && st.uid === s.owner.uid && st.gid === s.owner.gid) return unchanged('exists');
        await chownDir(dir, s.owner.uid, s.owner.gid);
        return changed(sub ? 'owner corrected' : undefined);
      } finally {
        await closeDir(dir);
      }
    }),
};
