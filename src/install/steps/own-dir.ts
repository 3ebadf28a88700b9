// own-dir: chown/chmod an existing directory, never through a symbolic link (with `fs`, through the
// verified filesystem).
import { fstatSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { chownDir } from '../../base/sys/fd.js';
import { verifyOp } from './crypt-fs.js';
import { withDir } from './parent.js';
import { changed, octal, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

export const ownDir: StepModule<StepOf<'own-dir'>> = {
  describe: (s) =>
    seq(
      `make ${s.path} ${s.owner.uid}:${s.owner.gid} ${octal(s.mode)}`,
      !!s.fs && verifyOp(s.fs),
      { op: `chown ${s.owner.uid}:${s.owner.gid} and chmod ${octal(s.mode)} ${s.path} (never through a symbolic link)` },
    ),
  async probe(s) {
    const st = await lstat(s.path).catch(() => null);
    if (!st) return wouldChange();
    return st.uid === s.owner.uid && st.gid === s.owner.gid && (st.mode & 0o7777) === s.mode ? satisfied('owner and mode as wanted') : wouldChange();
  },
  apply: (s) =>
    withDir(s.path, s.fs, async (dir) => {
      const st = fstatSync(dir.fd);
      if (st.uid === s.owner.uid && st.gid === s.owner.gid && (st.mode & 0o7777) === s.mode) return unchanged('owner and mode as wanted');
      await chownDir(dir, s.owner.uid, s.owner.gid, s.mode);
      return changed();
    }),
};
