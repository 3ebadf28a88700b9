// resize-btrfs: `btrfs filesystem resize DEVID:SIZE|max` on the mounted crypt, online: growing takes the
// device's new room; shrinking first moves every chunk below the new end (Btrfs refuses with ENOSPC when
// the data does not fit, and then nothing changed).
import { readDevices } from '../../base/btrfs/devices.js';
import { CommandError, RefusedError } from '../../base/errors.js';
import { formatSize, humanSize } from '../../model/units.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

const argv = (s: StepOf<'resize-btrfs'>) => ['btrfs', 'filesystem', 'resize', `${s.devid}:${s.max ? 'max' : String(s.sizeBytes)}`, s.mountPoint];

async function deviceSize(s: StepOf<'resize-btrfs'>, ctx: Parameters<StepModule<StepOf<'resize-btrfs'>>['probe']>[1]): Promise<number> {
  const dev = (await readDevices(ctx.runner, s.mountPoint)).find((d) => d.devid === s.devid);
  if (!dev) throw new Error(`the filesystem at ${s.mountPoint} has no device ${s.devid}`);
  return dev.size;
}

export const resizeBtrfs: StepModule<StepOf<'resize-btrfs'>> = {
  describe: (s) => seq(`resize Btrfs at ${s.mountPoint} to ${s.max ? `all of its device (${formatSize(s.sizeBytes)})` : formatSize(s.sizeBytes)}`, { run: argv(s) }),
  async probe(s, ctx) {
    const size = await deviceSize(s, ctx);
    return size === s.sizeBytes ? satisfied(`already ${formatSize(s.sizeBytes)}`) : wouldChange(`now ${humanSize(size)}`);
  },
  async apply(s, ctx) {
    const before = await deviceSize(s, ctx);
    if (before === s.sizeBytes) return unchanged(`already ${formatSize(s.sizeBytes)}`);
    await ctx.runner.run(argv(s)).catch((e: unknown) => {
      // Btrfs refuses a shrink it cannot make room for, and changes nothing then: a refusal with the way out.
      if (before > s.sizeBytes && e instanceof CommandError && /No space left on device/.test(e.stderr)) {
        throw new RefusedError(`Btrfs at ${s.mountPoint} found no room below ${formatSize(s.sizeBytes)} for what lies beyond it (ENOSPC); it stays ${humanSize(before)}, nothing was changed`, {
          hint: 'Choose a larger size, or make room first (`lychd-crypt prune`, `lychd-crypt delete NAME`), then run it again.',
        });
      }
      throw e;
    });
    const after = await deviceSize(s, ctx);
    if (after !== s.sizeBytes) throw new Error(`Btrfs at ${s.mountPoint} is ${humanSize(after)} after the resize, not ${formatSize(s.sizeBytes)}`);
    return changed(`${humanSize(before)} → ${humanSize(after)}`);
  },
};
