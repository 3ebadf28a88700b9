// write-mount-unit: the systemd mount unit written when its content differs (repair keeps the previous one
// as a backup); systemd reloaded when it runs.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../base/sys/fs.js';
import { fileProbe, readText } from './file-probe.js';
import { BACKUP_SUFFIX, keepBackup } from './file-backup.js';
import { DAEMON_RELOAD, changed, seq, unchanged, type StepModule, type StepOf } from './module.js';

export const writeMountUnit: StepModule<StepOf<'write-mount-unit'>> = {
  describe: (s) =>
    seq(
      `write systemd unit ${s.unit}`,
      !!s.backup && { op: `back up ${s.path} to ${s.path}${BACKUP_SUFFIX}` },
      { write: { path: s.path, content: s.content, mode: 0o644 } },
      s.reload && { run: DAEMON_RELOAD },
    ),
  probe: async (s) => fileProbe(s.path, await readText(s.path), s.content),
  async apply(s, ctx) {
    if ((await readFile(s.path, 'utf8').catch(() => null)) === s.content) return unchanged('same content');
    if (s.backup) await keepBackup(s.path);
    await writeFileAtomic(s.path, s.content, { mode: 0o644 });
    if (s.reload) await ctx.runner.run(DAEMON_RELOAD);
    return changed();
  },
};
