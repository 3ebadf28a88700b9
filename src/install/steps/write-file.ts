// write-file: a file of the tool's own (configuration, state) written atomically when it differs.
import { writeFileAtomic } from '../../base/sys/fs.js';
import { fileProbe, readText } from './file-probe.js';
import { sameFile } from './same-file.js';
import { changed, satisfied, seq, unchanged, type StepModule, type StepOf } from './module.js';

export const writeFile: StepModule<StepOf<'write-file'>> = {
  describe: (s) => seq(`write ${s.path}`, { write: { path: s.path, content: s.content, mode: s.mode } }),
  probe: async (s) => ((await sameFile(s.path, s.content, s.mode)) ? satisfied('same content') : fileProbe(s.path, await readText(s.path), s.content, 'same content, other mode')),
  async apply(s) {
    if (await sameFile(s.path, s.content, s.mode)) return unchanged('same content');
    await writeFileAtomic(s.path, s.content, { mode: s.mode });
    return changed();
  },
};
