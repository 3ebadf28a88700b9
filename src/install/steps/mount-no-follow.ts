// Mounting without following links, and telling whether the described filesystem is the one mounted.
import { CryptError } from '../../base/errors.js';
import { registerAnchor } from '../../base/anchors.js';
import { closeDir, openDir } from '../../base/sys/fd.js';
import type { MountSpec } from '../../model/mount-spec.js';
import { mountAt } from '../detect/findmnt.js';
import type { StepContext } from './context.js';

/** mount(8) as the plan shows it. */
export const mountArgv = (spec: MountSpec) => ['mount', '-t', spec.type, '-o', spec.options.join(','), spec.what, spec.where];

/** Is what is mounted at spec.where the filesystem the spec describes? */
export async function mountedAsSpec(ctx: StepContext, spec: MountSpec): Promise<'yes' | 'no' | 'other'> {
  const m = await mountAt(ctx.runner, spec.where);
  if (!m) return 'no';
  if (spec.what.startsWith('UUID=')) {
    const r = await ctx.runner.run(['blkid', '-p', '-s', 'UUID', '-o', 'value', m.source], { allowFailure: true });
    return r.stdout.trim() === spec.what.slice(5) ? 'yes' : 'other';
  }
  return m.backingFile === spec.what || m.source === spec.what ? 'yes' : 'other';
}

/**
 * mount(8) on the directory a no-follow walk of spec.where finds, named through our fd to it and not
 * canonicalised: the mount point may sit in a user's home, and that user could otherwise swap a symbolic
 * link into the path (before or during the mount) and have root mount the crypt over a directory of their
 * choosing. The kernel records the real path, so findmnt and systemd see spec.where as usual.
 * util-linux 2.39+ (Debian 13) mounts through the new fd-based API, whose move to the target refuses that
 * /proc/PID/fd link ("wrong fs type, bad option …", exit 32, after the filesystem was set up): mount(2) it is,
 * as util-linux 2.38 (Debian 12) does anyway (LIBMOUNT_FORCE_MOUNT2, mount(8) ENVIRONMENT).
 */
export async function mountNoFollow(ctx: StepContext, spec: MountSpec): Promise<void> {
  // Without canonicalisation mount(8) does not look tags up either: UUID= is resolved here.
  const what = spec.what.startsWith('UUID=') ? await deviceOf(ctx, spec.what.slice(5)) : spec.what;
  const dir = await openDir(spec.where);
  registerAnchor(dir.anchor, spec.where);
  try {
    const argv = mountArgv({ ...spec, what });
    await ctx.runner.run(['mount', '--no-canonicalize', ...argv.slice(1, -1), dir.anchor], { env: { LIBMOUNT_FORCE_MOUNT2: 'always' } });
  } finally {
    await closeDir(dir);
  }
}

async function deviceOf(ctx: StepContext, uuid: string): Promise<string> {
  const r = await ctx.runner.run(['blkid', '-U', uuid], { allowFailure: true });
  const dev = r.stdout.trim();
  if (r.exitCode !== 0 || !dev.startsWith('/dev/')) {
    throw new CryptError(`no device holds the filesystem UUID=${uuid}`, { hint: 'Attach the crypt\'s disk (see `blkid`) and run the command again.' });
  }
  return dev;
}
