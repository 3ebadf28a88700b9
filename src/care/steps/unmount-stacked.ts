// unmount-stacked: the same filesystem is stacked on the mount point twice: unmount the top copy (one step
// per extra copy; each looks again first).
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from '../../install/steps/module.js';
import type { StepContext } from '../../install/steps/context.js';

async function copies(where: string, ctx: StepContext): Promise<number> {
  const r = await ctx.runner.run(['findmnt', '-J', '--mountpoint', where], { allowFailure: true });
  return r.exitCode === 0 ? ((JSON.parse(r.stdout) as { filesystems?: unknown[] }).filesystems?.length ?? 0) : 0;
}

export const unmountStacked: StepModule<StepOf<'unmount-stacked'>> = {
  describe: (s) => seq(`unmount the second copy of the crypt stacked on ${s.where} (umount ${s.where})`, { run: ['umount', s.where] }),
  probe: async (s, ctx) => ((await copies(s.where, ctx)) < 2 ? satisfied('already mounted once') : wouldChange()),
  async apply(s, ctx) {
    if ((await copies(s.where, ctx)) < 2) return unchanged('already mounted once');
    await ctx.runner.run(['umount', s.where]);
    return changed('done');
  },
};
