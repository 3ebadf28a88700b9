// mount: the crypt mounted as described (no-follow, see mountNoFollow). With a unit (repair, when systemd
// runs and that unit persists the mount): the unit mounts it, so systemd knows the mount as its own.
import { CryptError } from '../../base/errors.js';
import type { MountSpec } from '../../model/mount-spec.js';
import type { StepContext } from './context.js';
import { mountArgv, mountedAsSpec, mountNoFollow } from './mount-no-follow.js';
import { changed, satisfied, seq, unchanged, wouldChange, type Outcome, type StepModule, type StepOf } from './module.js';

/**
 * Mounts the crypt by starting its unit (after reset-failed: a failed unit keeps its state, and its start
 * limit, until then). A unit whose What=/Where= differ from the spec is not trusted to mount the crypt: the
 * crypt is mounted directly, and the unit rewritten by a later step is then the mount's owner.
 */
export async function startMountUnit(unit: string, spec: MountSpec, ctx: StepContext): Promise<Outcome> {
  const state = await mountedAsSpec(ctx, spec);
  if (state === 'yes') return unchanged('already mounted');
  if (state === 'other') throw new CryptError(`something else is mounted at ${spec.where}`, { hint: 'Unmount it and run repair again.' });
  const show = await ctx.runner.run(['systemctl', 'show', unit, '-p', 'What', '-p', 'Where'], { allowFailure: true });
  if (!show.stdout.includes(`What=${spec.what}\n`) || !show.stdout.includes(`Where=${spec.where}\n`)) {
    await mountNoFollow(ctx, spec);
    return changed(`mounted directly: ${unit} does not describe this mount`);
  }
  await ctx.runner.run(['systemctl', 'reset-failed', unit], { allowFailure: true });
  // Mounted by us (no-follow, see mountNoFollow), then started: systemd adopts a mount already at Where=.
  await mountNoFollow(ctx, spec);
  await ctx.runner.run(['systemctl', 'start', unit]);
  if ((await mountedAsSpec(ctx, spec)) !== 'yes') {
    throw new CryptError(`${unit} started but ${spec.where} is not mounted from ${spec.what}`, { hint: `See \`journalctl -u ${unit}\` and \`systemctl status ${unit}\`.` });
  }
  return changed(`started ${unit}`);
}

export const mount: StepModule<StepOf<'mount'>> = {
  describe: (s) =>
    s.unit
      ? seq(`mount ${s.spec.where} through ${s.unit} (systemctl reset-failed; systemctl start)`, { run: ['systemctl', 'reset-failed', s.unit] }, { run: mountArgv(s.spec) }, { run: ['systemctl', 'start', s.unit] })
      : seq(`mount ${s.spec.what} at ${s.spec.where}`, { run: mountArgv(s.spec) }),
  async probe(s, ctx) {
    const state = await mountedAsSpec(ctx, s.spec);
    return state === 'yes' ? satisfied('already mounted') : wouldChange(state === 'other' ? 'something else is mounted there: init will refuse' : undefined);
  },
  async apply(s, ctx) {
    if (s.unit) return startMountUnit(s.unit, s.spec, ctx);
    const state = await mountedAsSpec(ctx, s.spec);
    if (state === 'yes') return unchanged('already mounted');
    if (state === 'other') throw new CryptError(`something else is mounted at ${s.spec.where}`, { hint: 'Unmount it and run init again.' });
    await mountNoFollow(ctx, s.spec);
    return changed();
  },
};
