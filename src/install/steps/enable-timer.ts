// enable-timer: enable and (re)start a scheduled timer unless systemd already runs this exact version (a
// running timer keeps its old calendar until restarted). A user timer: lingering first, so its owner's
// manager runs without a login.
import { systemctlArgv } from '../../base/systemctl.js';
import type { UnitOwner } from '../../model/config.js';
import type { StepContext } from './context.js';
import { lingering, show } from './systemd-user.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

const lingerArgv = (u: UnitOwner) => [
  ['loginctl', 'enable-linger', u.name],
  ['systemctl', 'start', `user@${u.uid}.service`],
];
const enableArgv = (s: StepOf<'enable-timer'>) => [systemctlArgv(s.user, 'daemon-reload'), systemctlArgv(s.user, 'enable', s.unit), systemctlArgv(s.user, 'restart', s.unit)];

/** Enabled, running, and neither the timer nor its service changed on disk since systemd loaded them. */
async function upToDate(s: StepOf<'enable-timer'>, ctx: StepContext): Promise<boolean> {
  const u = s.user;
  if (u && !(await lingering(ctx, u))) return false;
  if ((await ctx.runner.run(systemctlArgv(u, 'is-enabled', s.unit), { allowFailure: true })).stdout.trim() !== 'enabled') return false;
  if ((await show(ctx, u, s.unit, 'ActiveState')) !== 'active' || (await show(ctx, u, s.unit, 'NeedDaemonReload')) !== 'no') return false;
  return (await show(ctx, u, s.unit.replace(/\.timer$/, '.service'), 'NeedDaemonReload')) === 'no';
}

export const enableTimer: StepModule<StepOf<'enable-timer'>> = {
  describe: (s) =>
    seq(
      `enable and start ${s.unit}${s.user ? ` (user timer of ${s.user.name})` : ''}`,
      ...(s.user ? lingerArgv(s.user) : []).map((run) => ({ run })),
      ...enableArgv(s).map((run) => ({ run })),
    ),
  probe: async (s, ctx) => ((await upToDate(s, ctx)) ? satisfied('enabled and running') : wouldChange()),
  async apply(s, ctx) {
    if (await upToDate(s, ctx)) return unchanged('enabled and running');
    for (const argv of [...(s.user ? lingerArgv(s.user) : []), ...enableArgv(s)]) await ctx.runner.run(argv);
    return changed();
  },
};
