// move-snapshots-back: snapshots/ is missing and a directory beside active/ holds the snapshots (moved by
// hand): moved back, by rename(2) within one filesystem — atomic, no data copied.
import { lstat, rename } from 'node:fs/promises';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from '../../install/steps/module.js';

const present = (p: string) => lstat(p).then(() => true, () => false);

export const moveSnapshotsBack: StepModule<StepOf<'move-snapshots-back'>> = {
  describe: (s) => seq(`move ${s.from} (${s.count} snapshot(s)) back to ${s.to} (mv)`, { op: `rename ${s.from} -> ${s.to}` }),
  probe: async (s) => ((await present(s.to)) ? satisfied(`already there (${s.to} exists)`) : wouldChange()),
  async apply(s) {
    if (await present(s.to)) return unchanged(`already there (${s.to} exists)`);
    await rename(s.from, s.to);
    return changed('done');
  },
};
