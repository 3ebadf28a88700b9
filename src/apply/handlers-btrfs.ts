// Handlers that make the Btrfs filesystem and its layout: mkfs (re-probing first), subvolumes, PGDATA.
import { chmod, chown, lstat, mkdir, readdir, stat } from 'node:fs/promises';
import { mountAt } from '../detect/findmnt.js';
import { RefusedError } from '../core/errors.js';
import { describeSignatures, probeSignatures } from '../detect/signatures.js';
import { mkfsArgv } from '../plan/actions.js';
import type { Step } from '../plan/steps.js';
import { changed, unchanged, type ApplyContext, type Outcome } from './context.js';

type S<K extends Step['kind']> = Extract<Step, { kind: K }>;

export async function mkfsBtrfs(s: S<'mkfs-btrfs'>, ctx: ApplyContext): Promise<Outcome> {
  // Probe again right before formatting: the device may have changed since detection.
  const sigs = await probeSignatures(ctx.runner, s.device);
  if (sigs.some((x) => x.type === 'btrfs' && x.uuid === s.uuid)) return unchanged('already formatted by us');
  if (sigs.length && !s.wipe) {
    throw new RefusedError(`${s.device} holds data (${describeSignatures(sigs)}); nothing was changed`, {
      hint: 'To format it anyway and lose that data, set partition.wipe: true.',
    });
  }
  await ctx.runner.run(mkfsArgv(s));
  // Without udev, mount finds UUID= through blkid's cache, which still holds what the device was before.
  await ctx.runner.run(['blkid', s.device], { allowFailure: true });
  return changed();
}

export async function growImage(s: S<'grow-image'>, ctx: ApplyContext): Promise<Outcome> {
  const mounted = await mountAt(ctx.runner, s.mountPoint);
  if (!mounted || mounted.backingFile !== s.path) throw new Error(`${s.path} is not mounted at ${s.mountPoint}`);
  const before = (await stat(s.path)).size;
  // The loop device keeps its old size until told (losetup -c); btrfs then takes the new room.
  if (before < s.sizeBytes) await ctx.runner.run(['truncate', '-s', String(s.sizeBytes), s.path]);
  const devSize = Number((await ctx.runner.run(['blockdev', '--getsize64', mounted.source])).stdout.trim());
  if (before >= s.sizeBytes && devSize >= s.sizeBytes) return unchanged('already this size');
  if (devSize < s.sizeBytes) await ctx.runner.run(['losetup', '--set-capacity', mounted.source]);
  await ctx.runner.run(['btrfs', 'filesystem', 'resize', 'max', s.mountPoint]);
  return changed();
}

/** Btrfs subvolumes have inode number 256. */
export async function isSubvolume(p: string): Promise<boolean | null> {
  const st = await lstat(p).catch(() => null);
  if (!st) return null;
  return st.isDirectory() && st.ino === 256;
}

export async function createSubvolume(s: S<'create-subvolume'>, ctx: ApplyContext): Promise<Outcome> {
  const sub = await isSubvolume(s.path);
  if (sub === false) throw new Error(`${s.path} exists but is not a Btrfs subvolume`);
  if (sub) {
    const st = await lstat(s.path);
    if (st.uid === s.owner.uid && st.gid === s.owner.gid) return unchanged('exists');
    await chown(s.path, s.owner.uid, s.owner.gid);
    return changed('owner corrected');
  }
  await ctx.runner.run(['btrfs', 'subvolume', 'create', s.path]);
  await chown(s.path, s.owner.uid, s.owner.gid);
  return changed();
}

export async function createPgdata(s: S<'create-pgdata'>, ctx: ApplyContext): Promise<Outcome> {
  const st = await lstat(s.path).catch(() => null);
  if (st) {
    if (!st.isDirectory()) throw new Error(`${s.path} exists but is not a directory`);
    const fixes: string[] = [];
    let warning = '';
    if (st.uid !== s.owner.uid || st.gid !== s.owner.gid) {
      await chown(s.path, s.owner.uid, s.owner.gid);
      fixes.push('owner');
    }
    if ((st.mode & 0o7777) !== s.mode) {
      await chmod(s.path, s.mode);
      fixes.push('mode');
    }
    const attrs = (await ctx.runner.run(['lsattr', '-d', s.path])).stdout.split(' ')[0] ?? '';
    if (!attrs.includes('C')) {
      // +C only affects files created afterwards; on an empty directory that is all of them.
      if ((await readdir(s.path)).length === 0) {
        await ctx.runner.run(['chattr', '+C', s.path]);
        fixes.push('nodatacow');
      } else {
        warning = '; warning: not nodatacow and not empty, its files stay copy-on-write';
      }
    }
    return fixes.length ? changed(fixes.join(', ') + warning) : unchanged(`exists${warning}`);
  }
  await mkdir(s.path, { mode: s.mode });
  await ctx.runner.run(['chattr', '+C', s.path]);
  await chown(s.path, s.owner.uid, s.owner.gid);
  await chmod(s.path, s.mode);
  return changed();
}
