// enable-mount-unit: systemctl daemon-reload + enable (only planned when systemd runs). With `start`, the
// unit also mounts the crypt now (enable --now): while systemd runs it owns the mount.
import path from 'node:path';
import { CryptError } from '../../base/errors.js';
import { mountedAsSpec, mountNoFollow } from './mount-no-follow.js';
import { DAEMON_RELOAD, changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

export const enableMountUnit: StepModule<StepOf<'enable-mount-unit'>> = {
  describe: (s) =>
    s.start
      ? seq(`enable ${s.unit} and mount ${s.start.where} through it`, { run: DAEMON_RELOAD }, { run: ['systemctl', 'enable', '--now', s.unit] })
      : seq(`enable ${s.unit}`, { run: DAEMON_RELOAD }, { run: ['systemctl', 'enable', s.unit] }),
  async probe(s, ctx) {
    const enabled = (await ctx.runner.run(['systemctl', 'is-enabled', s.unit], { allowFailure: true })).stdout.trim() === 'enabled';
    const mounted = s.start ? await mountedAsSpec(ctx, s.start) : 'yes';
    if (mounted === 'other') return wouldChange('something else is mounted there: init will refuse');
    return enabled && mounted === 'yes' ? satisfied('enabled') : wouldChange(enabled ? 'start it' : undefined);
  },
  async apply(s, ctx) {
    const r = await ctx.runner.run(['systemctl', 'is-enabled', s.unit], { allowFailure: true });
    const enabled = r.stdout.trim() === 'enabled';
    const mounted = s.start ? await mountedAsSpec(ctx, s.start) : 'yes';
    if (mounted === 'other') throw new CryptError(`something else is mounted at ${s.start!.where}`, { hint: 'Unmount it and run init again.' });
    if (enabled && mounted === 'yes') return unchanged('enabled');
    await ctx.runner.run(DAEMON_RELOAD);
    // A unit outside systemd's search path is enabled by its full path (systemctl links it).
    const inSearchPath = ['/etc/systemd/system', '/run/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system'].includes(path.dirname(s.path));
    const name = inSearchPath || enabled ? s.unit : s.path;
    if (!s.start) {
      await ctx.runner.run(['systemctl', 'enable', name]);
      return changed();
    }
    // Mounted by us (no-follow, see mountNoFollow); enable --now then adopts it as the unit's own mount.
    if (mounted === 'no') await mountNoFollow(ctx, s.start);
    await ctx.runner.run(enabled ? ['systemctl', 'start', s.unit] : ['systemctl', 'enable', '--now', name]);
    if ((await mountedAsSpec(ctx, s.start)) !== 'yes') {
      throw new CryptError(`${s.unit} started but ${s.start.where} is not mounted from ${s.start.what}`, { hint: `See \`journalctl -u ${s.unit}\` and \`systemctl status ${s.unit}\`.` });
    }
    return changed();
  },
};
