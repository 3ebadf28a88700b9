// Handlers for mounting, the mount record and persistence (fstab line or systemd unit).
import { constants } from 'node:fs';
import { copyFile, open, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { CryptError } from '../../base/errors.js';
import { exists, writeFileAtomic } from '../../base/sys/fs.js';
import { registerAnchor } from '../../base/anchors.js';
import { mountAt } from '../detect/findmnt.js';
import { mountArgv } from '../plan/actions.js';
import { closeDir, openDir } from '../../base/sys/fd.js';
import { openTrustedDirOrThrow } from '../../base/sys/trusted-path.js';
import type { Step } from '../../model/steps.js';
import { FSTAB_TAG, parseFstab, upsertFstabLine, type MountSpec } from '../render/index.js';
import { changed, unchanged, type ApplyContext, type Outcome } from './context.js';
import { withUnderlying } from './underlying.js';

type S<K extends Step['kind']> = Extract<Step, { kind: K }>;

/** A mount record is a few hundred bytes: anything much larger is not one. */
const MAX_RECORD = 64 * 1024;

/** Is what is mounted at spec.where the filesystem the spec describes? */
export async function mountedAsSpec(ctx: ApplyContext, spec: MountSpec): Promise<'yes' | 'no' | 'other'> {
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
 */
export async function mountNoFollow(ctx: ApplyContext, spec: MountSpec): Promise<void> {
  // Without canonicalisation mount(8) does not look tags up either: UUID= is resolved here.
  const what = spec.what.startsWith('UUID=') ? await deviceOf(ctx, spec.what.slice(5)) : spec.what;
  const dir = await openDir(spec.where);
  registerAnchor(dir.anchor, spec.where);
  try {
    const argv = mountArgv({ kind: 'mount', spec: { ...spec, what } });
    await ctx.runner.run(['mount', '--no-canonicalize', ...argv.slice(1, -1), dir.anchor]);
  } finally {
    await closeDir(dir);
  }
}

async function deviceOf(ctx: ApplyContext, uuid: string): Promise<string> {
  const r = await ctx.runner.run(['blkid', '-U', uuid], { allowFailure: true });
  const dev = r.stdout.trim();
  if (r.exitCode !== 0 || !dev.startsWith('/dev/')) {
    throw new CryptError(`no device holds the filesystem UUID=${uuid}`, { hint: 'Attach the crypt\'s disk (see `blkid`) and run the command again.' });
  }
  return dev;
}

export async function mount(s: S<'mount'>, ctx: ApplyContext): Promise<Outcome> {
  const state = await mountedAsSpec(ctx, s.spec);
  if (state === 'yes') return unchanged('already mounted');
  if (state === 'other') throw new CryptError(`something else is mounted at ${s.spec.where}`, { hint: 'Unmount it and run init again.' });
  await mountNoFollow(ctx, s.spec);
  return changed();
}

/**
 * Mounts the crypt by starting its unit (after reset-failed: a failed unit keeps its state, and its start
 * limit, until then). A unit whose What=/Where= differ from the spec is not trusted to mount the crypt: the
 * crypt is mounted directly, and the unit rewritten by a later step is then the mount's owner.
 */
export async function startMountUnit(unit: string, spec: MountSpec, ctx: ApplyContext): Promise<Outcome> {
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

export async function unmount(s: S<'unmount'>, ctx: ApplyContext): Promise<Outcome> {
  if (!(await mountAt(ctx.runner, s.path))) return unchanged('not mounted');
  await ctx.runner.run(['umount', s.path]);
  return changed();
}

/**
 * The record goes into the crypt path's directory, which sits in a user's tree: that directory is opened
 * without following a link they could have made, and the record written through its descriptor (a new
 * file renamed into place: neither follows a link either).
 */
export async function writeMountRecord(s: S<'write-mount-record'>, ctx: ApplyContext): Promise<Outcome> {
  return withUnderlying(ctx.runner, path.dirname(s.path), async (under) => {
    const dir = await openTrustedDirOrThrow(under);
    try {
      const file = `${dir.anchor}/${path.basename(s.path)}`;
      if ((await readRegularFile(file)) === s.content) return unchanged('same content');
      await writeFileAtomic(file, s.content, { mode: 0o644 });
      return changed();
    } finally {
      await closeDir(dir);
    }
  });
}

/** A regular file's text, opened without following a link or waiting on a FIFO; null when it is anything else. */
async function readRegularFile(file: string): Promise<string | null> {
  const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => null);
  if (!fh) return null;
  try {
    const st = await fh.stat();
    return st.isFile() && st.size <= MAX_RECORD ? await fh.readFile('utf8') : null;
  } finally {
    await fh.close();
  }
}

/** Writes fstab atomically, after copying the previous file to <file>.lychd-crypt.bak. */
async function replaceFstab(file: string, next: string): Promise<void> {
  const prev = await stat(file).catch(() => null);
  if (prev) await copyFile(file, `${file}.lychd-crypt.bak`);
  await writeFileAtomic(file, next, { mode: prev ? prev.mode & 0o7777 : 0o644, owner: prev ? { uid: prev.uid, gid: prev.gid } : undefined });
}

async function reload(ctx: ApplyContext, yes: boolean): Promise<void> {
  if (yes) await ctx.runner.run(['systemctl', 'daemon-reload']);
}

export async function writeFstabLine(s: S<'write-fstab-line'>, ctx: ApplyContext): Promise<Outcome> {
  const text = await readFile(s.file, 'utf8').catch(() => '');
  const next = upsertFstabLine(text, s.spec);
  if (next === text) return unchanged('line present');
  await replaceFstab(s.file, next);
  await reload(ctx, s.reload);
  return changed();
}

export async function removeFstabLine(s: S<'remove-fstab-line'>, ctx: ApplyContext): Promise<Outcome> {
  const text = await readFile(s.file, 'utf8').catch(() => '');
  const ours = new Set(parseFstab(text).filter((e) => e.where === s.where && e.options.includes(FSTAB_TAG)).map((e) => e.line));
  if (!ours.size) return unchanged('no line of ours');
  const next = text.split('\n').filter((_, i) => !ours.has(i + 1)).join('\n');
  await replaceFstab(s.file, next);
  await reload(ctx, s.reload);
  return changed();
}

export async function writeMountUnit(s: S<'write-mount-unit'>, ctx: ApplyContext): Promise<Outcome> {
  if ((await readFile(s.path, 'utf8').catch(() => null)) === s.content) return unchanged('same content');
  await writeFileAtomic(s.path, s.content, { mode: 0o644 });
  await reload(ctx, s.reload);
  return changed();
}

export async function removeMountUnit(s: S<'remove-mount-unit'>, ctx: ApplyContext): Promise<Outcome> {
  if (!(await exists(s.path))) return unchanged('absent');
  if (s.systemd) await ctx.runner.run(['systemctl', 'disable', s.unit], { allowFailure: true });
  await rm(s.path);
  await reload(ctx, s.systemd); // so systemd forgets the removed unit
  return changed();
}

export async function enableMountUnit(s: S<'enable-mount-unit'>, ctx: ApplyContext): Promise<Outcome> {
  const r = await ctx.runner.run(['systemctl', 'is-enabled', s.unit], { allowFailure: true });
  const enabled = r.stdout.trim() === 'enabled';
  const mounted = s.start ? await mountedAsSpec(ctx, s.start) : 'yes';
  if (mounted === 'other') throw new CryptError(`something else is mounted at ${s.start!.where}`, { hint: 'Unmount it and run init again.' });
  if (enabled && mounted === 'yes') return unchanged('enabled');
  await ctx.runner.run(['systemctl', 'daemon-reload']);
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
}
