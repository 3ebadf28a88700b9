// create-image: an empty file, `chattr +C` on a Btrfs host (only works while empty), then its size: truncate
// (sparse), or fallocate (preallocated: every block allocated now, so a host that fills up later cannot
// leave the crypt without room it already counted on — Btrfs would force it read-only).
import { open, stat } from 'node:fs/promises';
import { formatSize } from '../../model/units.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

const nocowArgv = (path: string) => ['chattr', '+C', path];
const sizeArgv = (s: StepOf<'create-image'>) => (s.preallocate ? ['fallocate', '-l', String(s.sizeBytes), s.path] : ['truncate', '-s', String(s.sizeBytes), s.path]);

export const createImage: StepModule<StepOf<'create-image'>> = {
  describe: (s) =>
    seq(
      `create image ${s.path} (${formatSize(s.sizeBytes)}${s.preallocate ? ', preallocated' : ''})`,
      { op: `create empty file ${s.path} (mode 0600)` },
      s.nocow && { run: nocowArgv(s.path) },
      { run: sizeArgv(s) },
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
    await ctx.runner.run(sizeArgv(s));
    return changed();
  },
};
