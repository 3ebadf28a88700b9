// remove-dir: rmdir of an empty directory (never deletes data), through its parent opened without
// following links.
import { rmdirAt } from '../../base/sys/fd.js';
import { isDir, withParent } from './parent.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

export const removeDir: StepModule<StepOf<'remove-dir'>> = {
  describe: (s) => seq(`remove empty directory ${s.path}`, { op: `rmdir ${s.path}` }),
  probe: async (s) => ((await isDir(s.path)) ? wouldChange() : satisfied('absent')),
  apply: (s) =>
    withParent(s.path, undefined, async (parent, name) => {
      if (!(await isDir(`${parent.anchor}/${name}`))) return unchanged('absent');
      await rmdirAt(parent, name); // only an empty directory: never deletes data
      return changed();
    }),
};
