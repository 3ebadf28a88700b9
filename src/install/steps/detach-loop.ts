// detach-loop: `losetup -d` the image's loop device once Btrfs has let go of it (after migrate's replace);
// one set up with autoclear (mount -o loop) has gone by itself.
import { loopBackingFile } from '../../base/sys/loop.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

const argv = (s: StepOf<'detach-loop'>) => ['losetup', '--detach', s.device];
const attached = async (s: StepOf<'detach-loop'>) => (await loopBackingFile(s.device)) === s.path;

export const detachLoop: StepModule<StepOf<'detach-loop'>> = {
  describe: (s) => seq(`detach the loop device ${s.device} of ${s.path}`, { run: argv(s) }),
  probe: async (s) => ((await attached(s)) ? wouldChange() : satisfied('not attached')),
  async apply(s, ctx) {
    if (!(await attached(s))) return unchanged('not attached');
    // The kernel may clear an autoclear device between the look and losetup: gone is what we wanted.
    const r = await ctx.runner.run(argv(s), { allowFailure: true });
    if (r.exitCode !== 0 && (await attached(s))) throw new Error(`losetup --detach ${s.device} failed: ${r.stderr.trim()}`);
    return r.exitCode === 0 ? changed() : unchanged('detached by the kernel (autoclear)');
  },
};
