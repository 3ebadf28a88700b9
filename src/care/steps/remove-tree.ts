// remove-tree: a directory tree left by an interrupted operation (never user data: only our own staging names).
import { rm } from 'node:fs/promises';
import { exists } from '../../base/sys/fs.js';
import { changed, satisfied, seq, wouldChange, type StepModule, type StepOf } from '../../install/steps/module.js';

export const removeTree: StepModule<StepOf<'remove-tree'>> = {
  describe: (s) => seq(`remove ${s.why} (rm -r ${s.path})`, { op: `rm -r ${s.path}` }),
  probe: async (s) => ((await exists(s.path)) ? wouldChange() : satisfied('already gone')),
  async apply(s) {
    await rm(s.path, { recursive: true, force: true });
    return changed('done');
  },
};
