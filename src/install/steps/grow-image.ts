// grow-image: grow a mounted image: truncate, tell the loop device (losetup -c), then btrfs filesystem
// resize max.
import { stat } from 'node:fs/promises';
import { formatSize } from '../../model/units.js';
import { mountAt } from '../detect/findmnt.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

// A preallocated image grows preallocated (loopback.preallocate): fallocate -l allocates the new part too.
const truncateArgv = (s: StepOf<'grow-image'>) => (s.preallocate ? ['fallocate', '-l', String(s.sizeBytes), s.path] : ['truncate', '-s', String(s.sizeBytes), s.path]);
const resizeArgv = (s: StepOf<'grow-image'>) => ['btrfs', 'filesystem', 'resize', 'max', s.mountPoint];

export const growImage: StepModule<StepOf<'grow-image'>> = {
  describe: (s) =>
    seq(
      `grow the image ${s.path} to ${formatSize(s.sizeBytes)}`,
      { run: truncateArgv(s) },
      { run: ['losetup', '--set-capacity', '<loop device of the mount>'] },
      { run: resizeArgv(s) },
    ),
  async probe(s, ctx) {
    const m = await mountAt(ctx.runner, s.mountPoint);
    const size = (await stat(s.path).catch(() => null))?.size ?? 0;
    if (!m || m.backingFile !== s.path || size < s.sizeBytes) return wouldChange();
    const dev = Number((await ctx.runner.run(['blockdev', '--getsize64', m.source], { allowFailure: true })).stdout.trim());
    return dev >= s.sizeBytes ? satisfied('already this size') : wouldChange();
  },
  async apply(s, ctx) {
    const mounted = await mountAt(ctx.runner, s.mountPoint);
    if (!mounted || mounted.backingFile !== s.path) throw new Error(`${s.path} is not mounted at ${s.mountPoint}`);
    const before = (await stat(s.path)).size;
    // The loop device keeps its old size until told (losetup -c); btrfs then takes the new room.
    if (before < s.sizeBytes) await ctx.runner.run(truncateArgv(s));
    const devSize = Number((await ctx.runner.run(['blockdev', '--getsize64', mounted.source])).stdout.trim());
    if (before >= s.sizeBytes && devSize >= s.sizeBytes) return unchanged('already this size');
    if (devSize < s.sizeBytes) await ctx.runner.run(['losetup', '--set-capacity', mounted.source]);
    await ctx.runner.run(resizeArgv(s));
    return changed();
  },
};
