// How root reaches a directory in a user's tree. openTrustedDir: a link only root could have made is
// followed (/home -> /var/home), one in a directory a user (or everyone) can write is refused, and
// directories it makes are made where it looked. openCryptFs: init's steps act only on the filesystem
// they were planned for, at its top.
import { describe, expect, it } from 'vitest';
import { chmod, chown, mkdir, symlink, writeFile } from 'node:fs/promises';
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { exitCodeFor } from '../../src/base/errors.js';
import { openCryptFs } from '../../src/install/steps/crypt-fs.js';
import { closeDir, NotFollowedError } from '../../src/base/sys/fd.js';
import { openTrustedDir } from '../../src/base/sys/trusted-path.js';
import { skipReason } from '../helpers/env.js';
import { makeUser, mountScratchFs, sh } from '../helpers/host.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';

const skip = skipReason('root', 'btrfs', 'loop');

describe.skipIf(skip)(`root's walks into a user's tree ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const scratches = scratchSuite();
  let scratch: Scratch;

  it('follows root\'s links in root\'s directories, refuses a user\'s, makes what is missing where it looked', async () => {
    scratch = await scratches.scratch();
    const real = scratch.path('var/home');
    await mkdir(path.join(real, 'x'), { recursive: true });
    // Root's links, relative (with ..) and absolute, in root's own 0755 directory: followed.
    await symlink('var/home', scratch.path('h'));
    await symlink(path.join(scratch.dir, 'var/../var/home'), scratch.path('abs'));
    for (const via of ['h/x', 'abs/x']) {
      const d = await openTrustedDir(scratch.path(via));
      expect(d?.path).toBe(path.join(real, 'x'));
      await closeDir(d);
    }
    expect(await openTrustedDir(scratch.path('h/missing/deeper'))).toBeNull();

    // A user's link in their own directory, or anyone's in a world-writable one: refused (exit 3).
    const alice = makeUser(scratch);
    const target = scratch.path('root-only');
    await mkdir(target, { mode: 0o700 });
    await symlink(target, path.join(alice.home, 'state'));
    const open = scratch.path('open');
    await mkdir(open);
    await chmod(open, 0o1777);
    await symlink(target, path.join(open, 'state'));
    for (const at of [path.join(alice.home, 'state'), path.join(open, 'state')]) {
      const e = await openTrustedDir(path.join(at, 'lychd-crypt'), { create: { mode: 0o700 } }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(NotFollowedError);
      expect(exitCodeFor(e)).toBe(3);
      expect((e as Error).message).toMatch(/is a symbolic link in a directory another user can write; it is not followed/);
    }
    expect(readdirSync(target)).toEqual([]);

    // Missing directories are made (mode and owner as asked, whatever the umask) below where it walked.
    await chown(alice.home, alice.uid, alice.gid);
    const made = await openTrustedDir(path.join(alice.home, 'a/b'), { create: { mode: 0o750, owner: { uid: alice.uid, gid: alice.gid } } });
    expect(made?.path).toBe(path.join(alice.home, 'a/b'));
    await closeDir(made);
    for (const d of ['a', 'a/b']) {
      const st = lstatSync(path.join(alice.home, d));
      expect([st.isDirectory(), st.uid, st.mode & 0o7777]).toEqual([true, alice.uid, 0o750]);
    }
    // A file where a directory belongs: refused, nothing made.
    await writeFile(path.join(alice.home, 'file'), '');
    const e = await openTrustedDir(path.join(alice.home, 'file/x'), { create: { mode: 0o700 } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NotFollowedError);
    expect((e as Error).message).toMatch(/file is not a directory; nothing was made there/);
  });

  it('openCryptFs: the planned filesystem at its top, or a refusal (exit 3)', async () => {
    scratch = await scratches.scratch();
    const mnt = scratch.path('mnt');
    await mountScratchFs(scratch, 'btrfs', mnt);
    await mkdir(path.join(mnt, 'sub'));
    const uuid = sh(['findmnt', '-n', '-o', 'UUID', '--mountpoint', mnt]).trim();
    const d = await openCryptFs({ root: mnt, uuid });
    await closeDir(d);
    await closeDir(await openCryptFs({ root: path.join(mnt, 'sub'), uuid: null })); // native: any directory on Btrfs
    for (const [fs, why] of [
      [{ root: mnt, uuid: '00000000-0000-0000-0000-000000000001' }, /is not the Btrfs filesystem 0+-0+-0+-0+-0+1 init mounted there: it is on the filesystem/],
      [{ root: path.join(mnt, 'sub'), uuid }, /it is not the top of that filesystem/],
      [{ root: scratch.dir, uuid: null }, /is not a directory on Btrfs: it is not on Btrfs/],
    ] as const) {
      const e = await openCryptFs(fs).catch((x: unknown) => x);
      expect(exitCodeFor(e), String(e)).toBe(3);
      expect((e as Error).message).toMatch(why);
    }
  });
});
