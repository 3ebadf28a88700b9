// set-owner: chown (and chmod) a path; recursive: every entry below it too (PGDATA must be the server's).
// lchown: a link is changed itself, never followed.
import { chmod, lchown } from 'node:fs/promises';
import { walkTree } from '../walk.js';
import { changed, octal, seq, wouldChange, type StepModule, type StepOf } from '../../install/steps/module.js';

export const setOwner: StepModule<StepOf<'set-owner'>> = {
  describe: (s) =>
    seq(
      `chown ${s.recursive ? '-R ' : ''}${s.owner.uid}:${s.owner.gid} ${s.path}${s.mode === null ? '' : `; chmod ${octal(s.mode)} ${s.path}`}`,
      { op: `chown ${s.recursive ? 'every entry of ' : ''}${s.path} to ${s.owner.uid}:${s.owner.gid} (never through a symbolic link)` },
      s.mode !== null && { op: `chmod ${octal(s.mode)} ${s.path}` },
    ),
  probe: async () => wouldChange(),
  async apply(s) {
    const entries = s.recursive ? await walkTree(s.path) : [{ path: s.path }];
    for (const e of entries) await lchown(e.path, s.owner.uid, s.owner.gid);
    if (s.mode !== null) await chmod(s.path, s.mode);
    return changed(s.recursive ? `${entries.length} entries` : 'done');
  },
};
