// receiver-dir (`init --receiver DIR`): the directory of one crypt's copies on a target: a Btrfs subvolume of
// its own, root's, 0700 (the copies keep the sender's numeric owners, so nobody else may look inside). Its
// parents are made (root's, 0755, never through a link a user could have made) when missing; an existing DIR must be root's and not a link (its mode is
// set to 0700); a parent that is not on Btrfs is refused.
import { chmod, lstat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { RefusedError } from '../../base/errors.js';
import { closeDir } from '../../base/sys/fd.js';
import { openTrustedDirOrThrow } from '../../base/sys/trusted-path.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

const BTRFS_MAGIC = 0x9123683e;
const createArgv = (dir: string) => ['btrfs', 'subvolume', 'create', dir];

/** What is at DIR now, as the probe and apply judge it. */
async function judge(dir: string): Promise<'missing' | 'ok' | { fix: string } | { refuse: string }> {
  const st = await lstat(dir).catch(() => null);
  if (!st) return 'missing';
  if (st.isSymbolicLink() || !st.isDirectory()) return { refuse: `${dir} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}` };
  if (st.uid !== 0) return { refuse: `${dir} belongs to uid ${st.uid}, not root: its owner could read or replace the copies` };
  return (st.mode & 0o777) === 0o700 ? 'ok' : { fix: `mode 0${(st.mode & 0o777).toString(8)} → 0700` };
}

export const receiverDir: StepModule<StepOf<'receiver-dir'>> = {
  describe: (s) =>
    seq(
      `make ${s.path} the receiver's directory (a Btrfs subvolume, root's, 0700)`,
      { op: `mkdir the missing parents of ${s.path} (root's, 0755); refuse when ${path.dirname(s.path)} is not on Btrfs` },
      { run: createArgv(s.path) },
      { op: `chmod 0700 ${s.path}` },
    ),
  async probe(s) {
    const j = await judge(s.path);
    if (j === 'ok') return satisfied("root's, 0700");
    if (j === 'missing') return wouldChange();
    return 'fix' in j ? wouldChange(j.fix) : wouldChange(`${j.refuse}: init will refuse`);
  },
  async apply(s, ctx) {
    const j = await judge(s.path);
    if (j === 'ok') return unchanged("root's, 0700");
    if (typeof j === 'object' && 'refuse' in j) throw new RefusedError(`${j.refuse}; nothing was changed`, { hint: 'Name another directory, or move that one away.' });
    if (typeof j === 'object') {
      await chmod(s.path, 0o700);
      return changed(j.fix);
    }
    const parent = path.dirname(s.path);
    // Made through descriptors, no link a user planted on the way followed (SPEC section 8).
    await closeDir(await openTrustedDirOrThrow(parent, { create: { mode: 0o755, owner: { uid: 0, gid: 0 } } }));
    if ((await statfs(parent)).type !== BTRFS_MAGIC) {
      throw new RefusedError(`${parent} is not on Btrfs: btrfs receive needs a Btrfs filesystem; nothing was received or made there`, { hint: 'Name a directory on a Btrfs filesystem (a second disk formatted with mkfs.btrfs).' });
    }
    await ctx.runner.run(createArgv(s.path));
    await chmod(s.path, 0o700);
    return changed();
  },
};
