// create-dir: mkdir when missing, through the descriptor of its parent (no link followed on the way); an
// existing directory is left as it is.
import { lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chownDir, closeDir, NotFollowedError, openDir } from '../../base/sys/fd.js';
import { verifyOp } from './crypt-fs.js';
import { withParent } from './parent.js';
import { changed, octal, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

export const createDir: StepModule<StepOf<'create-dir'>> = {
  describe: (s) =>
    seq(
      `create directory ${s.path}`,
      s.fs ? verifyOp(s.fs) : { op: `open ${path.dirname(s.path)} without following a symbolic link a user could have made` },
      { op: `mkdir ${s.path} (mode ${octal(s.mode)}, owner ${s.owner.uid}:${s.owner.gid}) in it` },
    ),
  async probe(s) {
    const st = await lstat(s.path).catch(() => null);
    if (st && !st.isDirectory()) return wouldChange(`${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'} is there: init will refuse`);
    return st ? satisfied('exists') : wouldChange();
  },
  apply: (s) =>
    withParent(s.path, s.fs, async (parent, name) => {
      const st = await lstat(`${parent.anchor}/${name}`).catch(() => null);
      if (st?.isDirectory()) return unchanged('exists');
      if (st) {
        throw new NotFollowedError(`${s.path} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}; it is not followed and nothing was made there`, {
          hint: `Move it away (a directory is made in its place), then run the command again.`,
        });
      }
      await mkdir(`${parent.anchor}/${name}`, { mode: s.mode }); // mkdir never follows its last component
      const dir = await openDir(name, parent);
      try {
        await chownDir(dir, s.owner.uid, s.owner.gid, s.mode); // the umask must not narrow it
      } finally {
        await closeDir(dir);
      }
      return changed();
    }),
};
