// remove-mount-unit: a mount unit no longer wanted: disabled (when systemd runs), removed (repair keeps a
// backup), and systemd reloaded so it forgets it.
import { rm } from 'node:fs/promises';
import { exists } from '../../base/sys/fs.js';
import { unifiedDiff } from '../render/diff.js';
import { readText } from './file-probe.js';
import { BACKUP_SUFFIX, keepBackup } from './file-backup.js';
import { DAEMON_RELOAD, changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

export const removeMountUnit: StepModule<StepOf<'remove-mount-unit'>> = {
  describe: (s) =>
    seq(
      `remove systemd unit ${s.unit}`,
      !!s.backup && { op: `back up ${s.path} to ${s.path}${BACKUP_SUFFIX}` },
      s.systemd && { run: ['systemctl', 'disable', s.unit] },
      { op: `rm ${s.path}` },
      s.systemd && { run: DAEMON_RELOAD },
    ),
  async probe(s) {
    const text = await readText(s.path);
    return text === null ? satisfied('absent') : wouldChange(undefined, unifiedDiff(text, '', s.path));
  },
  async apply(s, ctx) {
    if (s.backup) await keepBackup(s.path);
    if (!(await exists(s.path))) return unchanged('absent');
    if (s.systemd) await ctx.runner.run(['systemctl', 'disable', s.unit], { allowFailure: true });
    await rm(s.path);
    if (s.systemd) await ctx.runner.run(DAEMON_RELOAD); // so systemd forgets the removed unit
    return changed();
  },
};
