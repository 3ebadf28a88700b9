// write-fstab-line: our tagged line replaced (or appended), atomically, keeping a backup of the previous
// file; systemd told when it runs (it generates mount units from fstab).
import { readFile } from 'node:fs/promises';
import { upsertFstabLine } from '../render/index.js';
import { fileProbe, readText } from './file-probe.js';
import { BACKUP_SUFFIX, replaceFstab } from './file-backup.js';
import { DAEMON_RELOAD, changed, seq, unchanged, type StepModule, type StepOf } from './module.js';

export const writeFstabLine: StepModule<StepOf<'write-fstab-line'>> = {
  describe: (s) =>
    seq(
      `persist the mount in ${s.file}`,
      { op: `back up ${s.file} to ${s.file}${BACKUP_SUFFIX}` },
      { op: `replace our line (tag x-lychd-crypt) or append it, atomically: ${s.line}` },
      s.reload && { run: DAEMON_RELOAD },
    ),
  async probe(s) {
    const text = (await readText(s.file)) ?? '';
    return fileProbe(s.file, text, upsertFstabLine(text, s.spec), 'line present');
  },
  async apply(s, ctx) {
    const text = await readFile(s.file, 'utf8').catch(() => '');
    const next = upsertFstabLine(text, s.spec);
    if (next === text) return unchanged('line present');
    await replaceFstab(s.file, next);
    if (s.reload) await ctx.runner.run(DAEMON_RELOAD);
    return changed();
  },
};
