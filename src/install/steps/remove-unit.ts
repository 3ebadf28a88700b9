// remove-unit: a scheduled unit the answers no longer ask for: disable --now (when systemd runs), rm,
// daemon-reload — a user unit as its owner.
import { rm } from 'node:fs/promises';
import { exists } from '../../base/sys/fs.js';
import { asUser } from '../../base/runner.js';
import { systemctlArgv } from '../../base/systemctl.js';
import type { StepContext } from './context.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

type RemoveUnit = StepOf<'remove-unit'>;

const present = async (s: RemoveUnit, ctx: StepContext) =>
  s.user ? (await ctx.runner.run(asUser(s.user, ['test', '-e', s.path]), { allowFailure: true })).exitCode === 0 : exists(s.path);

export const removeUnit: StepModule<RemoveUnit> = {
  describe: (s) =>
    seq(
      `remove systemd ${s.user ? `user unit of ${s.user.name}` : 'unit'} ${s.unit}`,
      s.systemd && { run: systemctlArgv(s.user, 'disable', '--now', s.unit) },
      { op: `rm ${s.path}` },
      s.systemd && { run: systemctlArgv(s.user, 'daemon-reload') },
    ),
  probe: async (s, ctx) => ((await present(s, ctx)) ? wouldChange() : satisfied('absent')),
  async apply(s, ctx) {
    const u = s.user;
    if (!(await present(s, ctx))) return unchanged('absent');
    if (s.systemd) await ctx.runner.run(systemctlArgv(u, 'disable', '--now', s.unit), { allowFailure: true });
    if (u) await ctx.runner.run(asUser(u, ['rm', '-f', '--', s.path]));
    else await rm(s.path);
    // A user manager that is not running has nothing loaded to forget.
    if (s.systemd) await ctx.runner.run(systemctlArgv(u, 'daemon-reload'), { allowFailure: !!u });
    return changed();
  },
};
