// mkfs-btrfs: format the device, its signatures probed again right before: any signature without wipe is
// refused (the device may have changed since detection).
import { RefusedError } from '../../base/errors.js';
import { exists } from '../../base/sys/fs.js';
import { describeSignatures, probeSignatures } from '../detect/signatures.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

export const mkfsArgv = (s: StepOf<'mkfs-btrfs'>) => ['mkfs.btrfs', ...(s.wipe ? ['-f'] : []), '-L', s.label, '-U', s.uuid, s.device];

export const mkfsBtrfs: StepModule<StepOf<'mkfs-btrfs'>> = {
  describe: (s) =>
    seq(
      `format ${s.device} as Btrfs (label ${s.label})${s.wipe ? ', wiping what it holds' : ''}`,
      { run: ['wipefs', '--no-act', '--json', s.device] },
      { op: s.wipe ? 'format even if it holds a signature (wipe: true)' : 'stop if it holds any signature' },
      { run: mkfsArgv(s) },
      { run: ['blkid', s.device] },
    ),
  async probe(s, ctx) {
    if (!(await exists(s.device))) return wouldChange();
    const sigs = await probeSignatures(ctx.runner, s.device);
    if (sigs.some((x) => x.type === 'btrfs' && x.uuid === s.uuid)) return satisfied('already formatted by us');
    return wouldChange(sigs.length && !s.wipe ? 'it holds data: init will refuse' : undefined);
  },
  async apply(s, ctx) {
    const sigs = await probeSignatures(ctx.runner, s.device);
    if (sigs.some((x) => x.type === 'btrfs' && x.uuid === s.uuid)) return unchanged('already formatted by us');
    if (sigs.length && !s.wipe) {
      throw new RefusedError(`${s.device} holds data (${describeSignatures(sigs)}); nothing was changed`, {
        hint: 'To format it anyway and lose that data, set partition.wipe: true.',
      });
    }
    await ctx.runner.run(mkfsArgv(s));
    // Without udev, mount finds UUID= through blkid's cache, which still holds what the device was before.
    await ctx.runner.run(['blkid', s.device], { allowFailure: true });
    return changed();
  },
};
