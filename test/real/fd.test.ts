// The fd layer against the real kernel: the ioctls agree with btrfs-progs, and walks refuse symlinks.
import { beforeEach, describe, expect, it } from 'vitest';
import { mkdir, symlink, writeFile, readFile } from 'node:fs/promises';
import { btrfsFsUuid, childSubvolumeCount, closeDir, createFileAt, inodeFlags, FS_NOCOW_FL, NotFollowedError, openDir, subvolInfo, unlinkAt } from '../../src/base/sys/fd.js';
import { skipReason } from '../helpers/env.js';
import { mountScratchFs, sh } from '../helpers/host.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';

const skip = skipReason('root', 'btrfs', 'loop');

describe.skipIf(skip)('fd-relative access and Btrfs ioctls', () => {
  const scratches = scratchSuite();
  let scratch: Scratch;
  beforeEach(async () => {
    scratch = await scratches.scratch();
  });

  it('reads the filesystem UUID and subvolume facts as btrfs-progs does', async () => {
    const mnt = scratch.path('mnt');
    const image = await mountScratchFs(scratch, 'btrfs', mnt);
    sh(['btrfs', 'subvolume', 'create', `${mnt}/a`]);
    await mkdir(`${mnt}/snaps`);
    sh(['btrfs', 'subvolume', 'snapshot', '-r', `${mnt}/a`, `${mnt}/snaps/s1`]);
    const top = await openDir(mnt);
    const a = await openDir('a', top);
    const s1 = await openDir('snaps/s1', top);
    try {
      const fsid = sh(['blkid', '-s', 'UUID', '-o', 'value', image]).trim();
      expect(await btrfsFsUuid(top)).toBe(fsid);
      const show = sh(['btrfs', 'subvolume', 'show', `${mnt}/snaps/s1`]);
      const info = await subvolInfo(s1);
      expect(show).toContain(info.uuid);
      expect(info.readonly).toBe(true);
      expect(info.parentUuid).toBe((await subvolInfo(a)).uuid);
      expect((await subvolInfo(a)).readonly).toBe(false);
      await mkdir(`${mnt}/a/c`);
      sh(['chattr', '+C', `${mnt}/a/c`]);
      const c = await openDir('c', a);
      expect((await inodeFlags(c)) & FS_NOCOW_FL).toBeTruthy();
      await closeDir(c);
      // Child subvolumes, as `btrfs subvolume list -o` counts them (a snapshot elsewhere is not a child).
      expect(await childSubvolumeCount(a)).toBe(0);
      sh(['btrfs', 'subvolume', 'create', `${mnt}/a/c/nested`]);
      expect(await childSubvolumeCount(a)).toBe(1);
      expect(await childSubvolumeCount(top)).toBe(2); // a and snaps/s1

    } finally {
      await closeDir(a);
      await closeDir(s1);
      await closeDir(top);
    }
  });

  it('refuses a symlink anywhere on the way and works through the anchor after a rename', async () => {
    const base = scratch.path('d');
    await mkdir(`${base}/real/inner`, { recursive: true });
    await mkdir(`${base}/elsewhere`);
    await writeFile(`${base}/elsewhere/victim`, 'keep');
    await symlink(`${base}/elsewhere`, `${base}/link`);
    await expect(openDir(`${base}/link`)).rejects.toBeInstanceOf(NotFollowedError);
    await expect(openDir('link/x', await openDir(base))).rejects.toBeInstanceOf(NotFollowedError);
    const inner = await openDir(`${base}/real/inner`);
    sh(['mv', `${base}/real`, `${base}/moved`]);
    await createFileAt(inner, 'f', 'hello');
    expect(await readFile(`${base}/moved/inner/f`, 'utf8')).toBe('hello');
    expect(await readFile(`${inner.anchor}/f`, 'utf8')).toBe('hello');
    await symlink(`${base}/elsewhere/victim`, `${base}/moved/inner/victim`);
    expect(await unlinkAt(inner, 'victim')).toBe(true); // the link itself, not its target
    expect(await readFile(`${base}/elsewhere/victim`, 'utf8')).toBe('keep');
    await symlink(`${base}/elsewhere/new`, `${base}/moved/inner/planted`);
    await expect(createFileAt(inner, 'planted', 'x')).rejects.toThrow();
    await closeDir(inner);
  });
});
