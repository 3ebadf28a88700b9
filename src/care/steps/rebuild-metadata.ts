// rebuild-metadata: a complete read-only snapshot lost its metadata file: rebuilt from the subvolume and
// pg_controldata. An unusable file is replaced only once it was set aside (with consent), never
// overwritten here.
import { formatTime } from '../../base/output/time.js';
import { readMeta, writeMeta } from '../../runtime/snapshots/meta.js';
import { rebuildMeta } from '../../runtime/snapshots/rebuild.js';
import { needCrypt } from '../../install/steps/context.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from '../../install/steps/module.js';

export const rebuildMetadata: StepModule<StepOf<'rebuild-metadata'>> = {
  describe: (s) =>
    seq(`rebuild the lost metadata of snapshot ${s.name} from its subvolume and pg_controldata (writes ${s.path}.json)`, { op: `read ${s.path} and its pg_control` }, { op: `write ${s.path}.json` }),
  async probe(s, ctx) {
    const existing = await readMeta(needCrypt(ctx).paths, s.name).then((m) => (m ? 'usable' : 'none'), () => 'unusable');
    return existing === 'usable' ? satisfied('already has metadata') : wouldChange();
  },
  async apply(s, ctx) {
    const crypt = needCrypt(ctx);
    const existing = await readMeta(crypt.paths, s.name).then((m) => (m ? 'usable' : 'none'), () => 'unusable');
    if (existing === 'usable') return unchanged('already has metadata');
    if (existing === 'unusable') return unchanged('not rebuilt: its unusable metadata file is still there (it was not set aside)');
    const meta = await rebuildMeta(ctx.runner, crypt.paths, s.name, crypt.config.postgres);
    await writeMeta(crypt.paths, meta);
    return changed(`rebuilt (${meta.mode}, created ${formatTime(meta.createdAt)}${meta.rebuilt?.checkpointLsn ? `, checkpoint ${meta.rebuilt.checkpointLsn} on timeline ${meta.rebuilt.timeline}` : ''})`);
  },
};
