// create-image: an empty file, `chattr +C` on a Btrfs host (only works while empty), then truncate to size.
import { open, stat } from 'node:fs/promises';
import { formatSize } from '../../model/units.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

const nocowArgv = (path: string) => ['chattr', '+C', path];
const truncateArgv = (s: StepOf<'create-image'>) => ['truncate', '-s', String(s.sizeBytes), s.path];

export const createImage: StepModule<StepOf<'create-image'>> = {
  describe: (s) =>
    seq(
      `create image ${s.path} (${formatSize(s.sizeBytes)})`,
      { op: `create empty file ${s.path} (mode 0600)` },
      s.nocow && { run: nocowArgv(s.path) },
      { run: truncateArgv(s) },
    ),
  probe: async (s) => ((await stat(s.path).catch(() => null))?.size === s.sizeBytes ? satisfied('exists with this size') : wouldChange()),
  async apply(s, ctx) {
    const st = await stat(s.path).catch(() => null);
    if (st && st.size === s.sizeBytes) return unchanged('exists with this size');
    if (!st) {
      const fh = await open(s.path, 'wx', 0o600);
      await fh.close();
    }
    // chattr +C only takes effect on an empty file, so it comes before the size (also when an earlier run
    // stopped right after creating the file).
    if (s.nocow && (!st || st.size === 0)) await ctx.runner.run(nocowArgv(s.path));
    await ctx.runner.run(truncateArgv(s));
    return changed();
  },
};
