// recover-interrupted: the operation in the journal finished or undone by the recovery table, which the
// command hands down (it knows operations of every layer: cli/frame/recover.ts).
import { needCrypt } from '../../install/steps/context.js';
import { changed, seq, wouldChange, type StepModule, type StepOf } from '../../install/steps/module.js';

export const recoverInterrupted: StepModule<StepOf<'recover-interrupted'>> = {
  describe: (s) => seq(`finish or undo the interrupted ${s.op} ${s.id} (phase ${s.phase})`, { op: `recover the ${s.op} journaled as ${s.id}` }),
  probe: async () => wouldChange(),
  async apply(_s, ctx) {
    if (!ctx.heal) throw new Error('no recovery was handed to this repair');
    return changed((await ctx.heal(needCrypt(ctx))).join('; ') || 'already recovered');
  },
};
