// delete-subvolume: a stray or incomplete subvolume of ours deleted. A killed verify's clone may still
// have its throwaway server running (pg_ctl daemonized it): it is stopped first, or it would run on,
// orphaned, on a deleted subvolume.
import path from 'node:path';
import { subvolumeDelete } from '../../base/btrfs/index.js';
import { exists } from '../../base/sys/fs.js';
import { removeClone, VERIFY_PREFIX } from '../../runtime/verify/leftovers.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from '../../install/steps/module.js';

export const deleteSubvolume: StepModule<StepOf<'delete-subvolume'>> = {
  describe: (s) =>
    seq(`delete ${s.why} (btrfs subvolume delete --commit-after ${s.path})`, { run: ['btrfs', 'subvolume', 'delete', '--commit-after', s.path] }),
  probe: async (s) => ((await exists(s.path)) ? wouldChange() : satisfied('already gone')),
  async apply(s, ctx) {
    if (!(await exists(s.path))) return unchanged('already gone');
    if (path.basename(s.path).startsWith(VERIFY_PREFIX)) {
      return changed((await removeClone(ctx.runner, s.path, ctx.crypt?.config.postgres?.dir ?? null)) ? 'done (its verify server stopped)' : 'done');
    }
    await subvolumeDelete(ctx.runner, s.path);
    return changed('done');
  },
};
