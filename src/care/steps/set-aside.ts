// set-aside: a state file nothing can act on (an unusable journal, invalid metadata) renamed to
// `<path>.invalid-<time>`: kept, not used. rename(2) moves the entry itself: a link or a FIFO is moved,
// never followed or opened.
import { lstat, rename } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir } from '../../base/sys/fs.js';
import { formatNameTime } from '../../runtime/snapshots/names.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from '../../install/steps/module.js';

const present = (p: string) => lstat(p).then(() => true, () => false);

export const setAside: StepModule<StepOf<'set-aside'>> = {
  describe: (s) => seq(`set ${s.why} aside (mv ${s.path} ${s.path}.invalid-<time>)`, { op: `rename ${s.path} -> ${s.path}.invalid-<time>` }),
  probe: async (s) => ((await present(s.path)) ? wouldChange() : satisfied('already gone')),
  async apply(s) {
    const to = `${s.path}.invalid-${formatNameTime(new Date())}`;
    if (!(await present(s.path))) return unchanged('already gone');
    await rename(s.path, to);
    await fsyncDir(path.dirname(s.path));
    return changed(`moved to ${to}`);
  },
};
