// refresh-loop: `losetup --set-capacity`: the loop device takes its backing file's new size. Only after the
// file changed: refreshed before, the device keeps the old size (and a later refresh is then needed).
import { stat } from 'node:fs/promises';
import { blockDeviceSize } from '../../base/btrfs/devices.js';
import { formatSize, humanSize } from '../../model/units.js';
import { loopBackingFile } from '../../base/sys/loop.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

const argv = (s: StepOf<'refresh-loop'>) => ['losetup', '--set-capacity', s.device];

export const refreshLoop: StepModule<StepOf<'refresh-loop'>> = {
  describe: (s) => seq(`refresh the loop device ${s.device} to its image's ${formatSize(s.sizeBytes)}`, { run: argv(s) }),
  async probe(s, ctx) {
    const size = await blockDeviceSize(ctx.runner, s.device);
    return size === s.sizeBytes ? satisfied(`already ${formatSize(s.sizeBytes)}`) : wouldChange(`now ${humanSize(size)}`);
  },
  async apply(s, ctx) {
    const backing = await loopBackingFile(s.device);
    if (backing !== s.path) throw new Error(`${s.device} is backed by ${backing ?? 'nothing'}, not ${s.path}; it was not refreshed`);
    const file = (await stat(s.path)).size;
    if (file !== s.sizeBytes) throw new Error(`the image ${s.path} is ${humanSize(file)}, not ${formatSize(s.sizeBytes)}: the file changes first, then the loop device`);
    const before = await blockDeviceSize(ctx.runner, s.device);
    if (before === s.sizeBytes) return unchanged(`already ${formatSize(s.sizeBytes)}`);
    await ctx.runner.run(argv(s));
    const after = await blockDeviceSize(ctx.runner, s.device);
    if (after !== s.sizeBytes) throw new Error(`${s.device} is ${humanSize(after)} after losetup --set-capacity, not ${formatSize(s.sizeBytes)}`);
    return changed(`${humanSize(before)} → ${humanSize(after)}`);
  },
};
