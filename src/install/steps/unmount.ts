// unmount: umount when something is mounted there.
import { mountAt } from '../detect/findmnt.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

export const unmount: StepModule<StepOf<'unmount'>> = {
  describe: (s) => seq(`unmount ${s.path}`, { run: ['umount', s.path] }),
  probe: async (s, ctx) => ((await mountAt(ctx.runner, s.path)) ? wouldChange() : satisfied('not mounted')),
  async apply(s, ctx) {
    if (!(await mountAt(ctx.runner, s.path))) return unchanged('not mounted');
    await ctx.runner.run(['umount', s.path]);
    return changed();
  },
};
