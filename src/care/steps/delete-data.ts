// delete-data (deinit --delete-data, with consent): what held the crypt's data is deleted — the image file,
// the Btrfs signature of the partition (only while it is still this crypt's filesystem: a device reused
// since is left alone), or a native crypt's subvolumes and directory, reached through the directory opened
// without following links and checked to be the registered one (its filesystem and inode).
import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { CryptError, RefusedError } from '../../base/errors.js';
import { exists } from '../../base/sys/fs.js';
import { btrfsFsUuid, closeDir, openDir, openDirIfExists } from '../../base/sys/fd.js';
import { isSubvolume } from '../../base/btrfs/probe.js';
import { subvolumeDelete } from '../../base/btrfs/subvolume.js';
import type { Runner } from '../../base/runner.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from '../../install/steps/module.js';

type Delete = StepOf<'delete-data'>;

/** The Btrfs UUID the device holds now, or null (none, or no longer Btrfs). */
async function deviceUuid(runner: Runner, device: string): Promise<string | null> {
  const r = await runner.run(['blkid', '-p', '-o', 'export', device], { allowFailure: true });
  const get = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(r.stdout)?.[1] ?? null;
  return get('TYPE') === 'btrfs' ? get('UUID') : null;
}

/** Every subvolume of a native crypt (snapshots, active/, stray staging), deepest first, then the rest of the tree. */
async function deleteNative(s: Extract<Delete, { method: 'native' }>, runner: Runner): Promise<boolean> {
  const dir = await openDirIfExists(s.root);
  if (!dir) return false;
  try {
    if ((await btrfsFsUuid(dir).catch(() => null)) !== s.fsUuid || (await stat(dir.anchor)).ino !== s.rootIno) {
      throw new RefusedError(`${s.root} is not the registered crypt any more (another filesystem or directory); its data was not deleted`, {
        hint: 'Look at the path (`ls -la`); delete what you mean to delete yourself.',
      });
    }
    const snaps = path.join(dir.anchor, 'snapshots');
    for (const name of (await readdir(snaps).catch(() => [] as string[])).sort()) {
      const p = path.join(snaps, name);
      if (await isSubvolume(p)) await subvolumeDelete(runner, p);
    }
    for (const name of await readdir(dir.anchor)) {
      const p = path.join(dir.anchor, name);
      if (await isSubvolume(p)) await subvolumeDelete(runner, p);
    }
    for (const name of await readdir(dir.anchor)) await rm(path.join(dir.anchor, name), { recursive: true, force: true });
  } finally {
    await closeDir(dir);
  }
  // The directory itself, now empty (rmdir removes nothing else, whatever stands at the path by now).
  await rmdir(s.root).catch(() => {});
  return true;
}

export const deleteData: StepModule<Delete> = {
  describe(s) {
    if (s.method === 'loopback') return seq(`DELETE the image ${s.image} and all the crypt's data in it`, { op: `rm ${s.image}` });
    if (s.method === 'partition') return seq(`ERASE the crypt's Btrfs signature on ${s.device} (its data becomes unreadable)`, { op: `check that ${s.device} still holds the filesystem ${s.fsUuid}` }, { run: ['wipefs', '--all', '--types', 'btrfs', s.device] });
    return seq(
      `DELETE active/ and every snapshot in ${s.root}, then the directory`,
      { op: `open ${s.root} without following links; check it is the registered directory (filesystem ${s.fsUuid}, inode ${s.rootIno})` },
      { op: 'btrfs subvolume delete each snapshot, then active/' },
      { op: `rm -r what is left, rmdir ${s.root}` },
    );
  },
  async probe(s, ctx) {
    if (s.method === 'loopback') return (await exists(s.image)) ? wouldChange() : satisfied('no image there');
    if (s.method === 'partition') return (await deviceUuid(ctx.runner, s.device)) === s.fsUuid ? wouldChange() : satisfied('no longer holds the crypt');
    return (await exists(s.root)) ? wouldChange() : satisfied('already gone');
  },
  async apply(s, ctx) {
    if (s.method === 'loopback') {
      if (!(await exists(s.image))) return unchanged('no image there');
      await rm(s.image);
      return changed('deleted');
    }
    if (s.method === 'partition') {
      if ((await deviceUuid(ctx.runner, s.device)) !== s.fsUuid) return unchanged('no longer holds the crypt');
      const r = await ctx.runner.run(['wipefs', '--all', '--types', 'btrfs', s.device], { allowFailure: true });
      if (r.exitCode !== 0) throw new CryptError(`wipefs on ${s.device} failed: ${r.stderr.trim()}`, { hint: 'Is it mounted or in use? `findmnt --source` and `lsblk` say.' });
      return changed('erased');
    }
    return (await deleteNative(s, ctx.runner)) ? changed('deleted') : unchanged('already gone');
  },
};
