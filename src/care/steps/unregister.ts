// unregister: the crypt's registry entry removed — deinit's last step; with it goes the mark that said a
// deinit was under way, so a crash before it leaves the mark for the next command to finish. When the data
// stays, the entry is kept first as released (root's state), so init with the same answers adopts it again.
import { readFile } from 'node:fs/promises';
import { entryFile, releasedFile, removeEntry, removeReleased, writeReleased, type RegistryEntry } from '../../base/registry/store.js';
import { exists } from '../../base/sys/fs.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from '../../install/steps/module.js';

export const unregister: StepModule<StepOf<'unregister'>> = {
  describe: (s) =>
    seq(
      `unregister the crypt "${s.name}" (rm ${entryFile(s.dir, s.name)})`,
      s.release ? { op: `keep its last entry as ${releasedFile(s.release, s.name)} (root's): init with the same answers recognises its data again` } : false,
      { op: `rm ${entryFile(s.dir, s.name)}; sync ${s.dir}` },
    ),
  probe: async (s) => ((await exists(entryFile(s.dir, s.name))) ? wouldChange() : satisfied('not registered')),
  async apply(s) {
    const text = await readFile(entryFile(s.dir, s.name), 'utf8').catch(() => null);
    if (text === null) return unchanged('not registered');
    const entry = JSON.parse(text) as RegistryEntry;
    if (s.release) await writeReleased(s.release, entry);
    else await removeReleased(entry.config.registry.state, s.name);
    return (await removeEntry(s.dir, s.name)) ? changed(s.release ? 'kept as released' : undefined) : unchanged('not registered');
  },
};
