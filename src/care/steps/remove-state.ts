// remove-state: the crypt's state directory (journal, lock, pg_ctl's log) removed. A system crypt's is
// root's, under /var/lib/lychd-crypt; a rootless crypt's lies in its owner's home, so it is removed as the
// owner (root never deletes through a path its owner could redirect).
import { rm } from 'node:fs/promises';
import { exists } from '../../base/sys/fs.js';
import { asUser } from '../../base/runner.js';
import type { StepContext } from '../../install/steps/context.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from '../../install/steps/module.js';

type RemoveState = StepOf<'remove-state'>;

const present = async (s: RemoveState, ctx: StepContext): Promise<boolean> =>
  s.owner ? (await ctx.runner.run(asUser(s.owner, ['test', '-e', s.path]), { allowFailure: true })).exitCode === 0 : exists(s.path);

export const removeState: StepModule<RemoveState> = {
  describe: (s) => seq(`remove the crypt's state directory ${s.path} (journal, lock, pg_ctl's log)${s.owner ? `, as ${s.owner.name}` : ''}`, { op: `rm -r ${s.path}` }),
  probe: async (s, ctx) => ((await present(s, ctx)) ? wouldChange() : satisfied('absent')),
  async apply(s, ctx) {
    if (!(await present(s, ctx))) return unchanged('absent');
    if (s.owner) await ctx.runner.run(asUser(s.owner, ['rm', '-rf', '--', s.path]));
    else await rm(s.path, { recursive: true, force: true });
    return changed();
  },
};
