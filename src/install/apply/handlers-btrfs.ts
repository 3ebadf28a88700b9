// Handlers that make the Btrfs filesystem and its layout: mkfs (re-probing first), subvolumes, PGDATA (these
// two through the checked filesystem's descriptor, see crypt-fs.ts).
import { fstatSync } from 'node:fs';
import { lstat, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Owner } from '../../model/config.js';
import { mountAt } from '../detect/findmnt.js';
import { RefusedError } from '../../base/errors.js';
import { describeSignatures, probeSignatures } from '../detect/signatures.js';
import { mkfsArgv } from '../plan/actions.js';
import type { Step } from '../../model/steps.js';
import { chownDir, closeDir, createSubvolumeAt, FS_NOCOW_FL, inodeFlags, openDir, setInodeFlags, type Dir } from '../../base/sys/fd.js';
import { openTrustedDirOrThrow } from '../../base/sys/trusted-path.js';
import { withinCryptFs } from './crypt-fs.js';
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

export async function createSubvolume(s: S<'create-subvolume'>): Promise<Outcome> {
  return withinCryptFs(s.fs, path.dirname(s.path), async (parent) => {
    const name = path.basename(s.path);
    const sub = await isSubvolume(`${parent.anchor}/${name}`);
    if (sub === false) throw new Error(`${s.path} exists but is not a Btrfs subvolume`);
    if (!sub) await createSubvolumeAt(parent, name);
    const dir = await openDir(name, parent);
    try {
      const st = fstatSync(dir.fd);
      if (sub && st.uid === s.owner.uid && st.gid === s.owner.gid) return unchanged('exists');
      await chownDir(dir, s.owner.uid, s.owner.gid);
      return changed(sub ? 'owner corrected' : undefined);
    } finally {
      await closeDir(dir);
    }
  });
}

export async function createPgdata(s: S<'create-pgdata'>): Promise<Outcome> {
  return withinCryptFs(s.fs, path.dirname(s.path), (parent) => pgdataIn(parent, path.basename(s.path), s.path, s.owner, s.mode));
}

/** PGDATA at `p` (repair's: the crypt as opened for the command, an fd anchor for root), made or corrected. */
export async function ensurePgdata(p: string, owner: Owner, mode: number): Promise<Outcome> {
  const parent = await openTrustedDirOrThrow(path.dirname(p));
  try {
    return await pgdataIn(parent, path.basename(p), p, owner, mode);
  } finally {
    await closeDir(parent);
  }
}

/** mkdir, chattr +C while empty, chown, chmod — each on a descriptor opened without following links. */
async function pgdataIn(parent: Dir, name: string, shown: string, owner: Owner, mode: number): Promise<Outcome> {
  const st = await lstat(`${parent.anchor}/${name}`).catch(() => null);
  if (st && !st.isDirectory()) throw new Error(`${shown} exists but is not a directory`);
  if (!st) await mkdir(`${parent.anchor}/${name}`, { mode }); // mkdir never follows its last component
  const dir = await openDir(name, parent);
  try {
    const flags = await inodeFlags(dir);
    if (!st) {
      // +C only affects files created afterwards; on an empty directory that is all of them.
      await setInodeFlags(dir, flags | FS_NOCOW_FL);
      await chownDir(dir, owner.uid, owner.gid, mode);
      return changed();
    }
    const now = fstatSync(dir.fd);
    const fixes: string[] = [];
    if (now.uid !== owner.uid || now.gid !== owner.gid) fixes.push('owner');
    if ((now.mode & 0o7777) !== mode) fixes.push('mode');
    if (fixes.length) await chownDir(dir, owner.uid, owner.gid, mode);
    let warning = '';
    if (!(flags & FS_NOCOW_FL)) {
      if ((await readdir(dir.anchor)).length === 0) {
        await setInodeFlags(dir, flags | FS_NOCOW_FL);
        fixes.push('nodatacow');
      } else {
        warning = '; warning: not nodatacow and not empty, its files stay copy-on-write';
      }
    }
    return fixes.length ? changed(fixes.join(', ') + warning) : unchanged(`exists${warning}`);
  } finally {
    await closeDir(dir);
  }
}
