// remove-fstab-line: the lines tagged as ours for a mount point removed, atomically, keeping a backup.
import { readFile } from 'node:fs/promises';
import { FSTAB_TAG, parseFstab } from '../render/index.js';
import { unifiedDiff } from '../render/diff.js';
import { readText } from './file-probe.js';
import { BACKUP_SUFFIX, replaceFstab } from './file-backup.js';
import { DAEMON_RELOAD, changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

/** The line numbers (1-based) of our lines for `where`. */
const ours = (text: string, where: string) => new Set(parseFstab(text).filter((e) => e.where === where && e.options.includes(FSTAB_TAG)).map((e) => e.line));
const without = (text: string, lines: Set<number>) => text.split('\n').filter((_, i) => !lines.has(i + 1)).join('\n');

export const removeFstabLine: StepModule<StepOf<'remove-fstab-line'>> = {
  describe: (s) =>
    seq(
      `remove our line for ${s.where} from ${s.file}`,
      { op: `back up ${s.file} to ${s.file}${BACKUP_SUFFIX}` },
      { op: `remove the line tagged x-lychd-crypt, atomically` },
      s.reload && { run: DAEMON_RELOAD },
    ),
  async probe(s) {
    const text = (await readText(s.file)) ?? '';
    const lines = ours(text, s.where);
    if (!lines.size) return satisfied('no line of ours');
    return wouldChange(undefined, unifiedDiff(text, without(text, lines), s.file));
  },
  async apply(s, ctx) {
    const text = await readFile(s.file, 'utf8').catch(() => '');
    const lines = ours(text, s.where);
    if (!lines.size) return unchanged('no line of ours');
    await replaceFstab(s.file, without(text, lines));
    if (s.reload) await ctx.runner.run(DAEMON_RELOAD);
    return changed();
  },
};
