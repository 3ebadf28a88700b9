// resize-image: set a crypt image's size (truncate, or fallocate for a preallocated image that grows);
// never below what the filesystem on it still uses, so a shrink only cuts what Btrfs already gave back.
import { stat } from 'node:fs/promises';
import { readDevices } from '../../base/btrfs/devices.js';
import { formatSize, humanSize } from '../../model/units.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

const truncateArgv = (s: StepOf<'resize-image'>) => ['truncate', '-s', String(s.sizeBytes), s.path];
// fallocate -l allocates every block up to the size (holes included) and extends the file with them.
const fallocateArgv = (s: StepOf<'resize-image'>) => ['fallocate', '-l', String(s.sizeBytes), s.path];
const argv = (s: StepOf<'resize-image'>) => (s.preallocate ? fallocateArgv(s) : truncateArgv(s));

/** The file's size and how much of it is allocated on the host. */
const sizes = async (p: string) => {
  const st = await stat(p);
  return { size: st.size, allocated: st.blocks * 512 };
};
const done = (s: StepOf<'resize-image'>, f: { size: number; allocated: number }) => f.size === s.sizeBytes && (!s.preallocate || f.allocated >= s.sizeBytes);

export const resizeImage: StepModule<StepOf<'resize-image'>> = {
  describe: (s) => seq(`${s.preallocate ? 'grow and preallocate' : 'set'} the image ${s.path} to ${formatSize(s.sizeBytes)}`, { run: argv(s) }),
  async probe(s) {
    const f = await sizes(s.path);
    return done(s, f) ? satisfied(`already ${formatSize(s.sizeBytes)}`) : wouldChange(`now ${humanSize(f.size)}`);
  },
  async apply(s, ctx) {
    const f = await sizes(s.path);
    if (done(s, f)) return unchanged(`already ${formatSize(s.sizeBytes)}`);
    if (s.sizeBytes < f.size) {
      // Cutting the file under a filesystem that still reaches past the cut would destroy data.
      const dev = (await readDevices(ctx.runner, s.mountPoint)).find((d) => d.devid === s.devid);
      if (!dev || dev.size > s.sizeBytes) {
        throw new Error(`the filesystem at ${s.mountPoint} still uses ${dev ? humanSize(dev.size) : 'an unknown size'} of ${s.path}: it must shrink to ${formatSize(s.sizeBytes)} first; the image was not cut`);
      }
    }
    await ctx.runner.run(argv(s));
    return changed(`${humanSize(f.size)} → ${humanSize(s.sizeBytes)}`);
  },
};
