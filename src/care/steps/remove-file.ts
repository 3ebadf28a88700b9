// remove-file: a file of ours nothing belongs to any more (orphan snapshot metadata).
import { rm } from 'node:fs/promises';
import { exists } from '../../base/sys/fs.js';
import { changed, satisfied, seq, wouldChange, type StepModule, type StepOf } from '../../install/steps/module.js';

export const removeFile: StepModule<StepOf<'remove-file'>> = {
  describe: (s) => seq(`remove ${s.why} (rm ${s.path})`, { op: `rm ${s.path}` }),
  probe: async (s) => ((await exists(s.path)) ? wouldChange() : satisfied('already gone')),
  async apply(s) {
    await rm(s.path, { force: true });
    return changed('done');
  },
};
