// write-unit: a scheduled service or timer, written when its content differs — as root, or a user unit
// as its owner (its directories, a temporary file, then rename over the unit).
import path from 'node:path';
import { writeFileAtomic } from '../../base/sys/fs.js';
import { asUser } from '../../base/runner.js';
import { fileProbe } from './file-probe.js';
import { readAs } from './systemd-user.js';
import { changed, seq, unchanged, type StepModule, type StepOf } from './module.js';

export const writeUnit: StepModule<StepOf<'write-unit'>> = {
  describe: (s) => seq(`write systemd ${s.user ? `user unit of ${s.user.name}` : 'unit'} ${s.unit}`, { write: { path: s.path, content: s.content, mode: 0o644 } }),
  probe: async (s, ctx) => fileProbe(s.path, await readAs(ctx, s.user, s.path), s.content),
  async apply(s, ctx) {
    if ((await readAs(ctx, s.user, s.path)) === s.content) return unchanged('same content');
    if (!s.user) {
      await writeFileAtomic(s.path, s.content, { mode: 0o644 });
      return changed();
    }
    const tmp = path.join(path.dirname(s.path), `.${path.basename(s.path)}.tmp`);
    await ctx.runner.run(asUser(s.user, ['mkdir', '-p', '--', path.dirname(s.path)]));
    await ctx.runner.run(asUser(s.user, ['tee', '--', tmp]), { input: s.content });
    await ctx.runner.run(asUser(s.user, ['chmod', '0644', '--', tmp]));
    await ctx.runner.run(asUser(s.user, ['mv', '-f', '-T', '--', tmp, s.path]));
    return changed();
  },
};
