// Builds scratch "hosts" for real tests: loop images with a filesystem, mounted under a Scratch,
// and throwaway OS users. Every resource is registered for teardown.
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import type { Scratch } from './scratch.js';

export function sh(argv: string[], opts: { input?: string } = {}): string {
  return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input: opts.input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Makes an image file with the given filesystem and mounts it at `mountPoint` (a fake host fs). */
export async function mountScratchFs(
  scratch: Scratch,
  fstype: 'ext4' | 'xfs' | 'btrfs',
  mountPoint: string,
  sizeMiB = fstype === 'xfs' ? 400 : 300,
): Promise<string> {
  const image = scratch.path(`${fstype}-${randomBytes(3).toString('hex')}.img`);
  sh(['truncate', '-s', `${sizeMiB}M`, image]);
  const mkfs = { ext4: ['mkfs.ext4', '-q', '-F'], xfs: ['mkfs.xfs', '-q', '-f'], btrfs: ['mkfs.btrfs', '-q', '-f'] }[fstype];
  sh([...mkfs, image]);
  await mkdir(mountPoint, { recursive: true });
  sh(['mount', '-o', 'loop', image, mountPoint]);
  scratch.defer(() => {
    try {
      sh(['umount', mountPoint]);
    } catch {
      /* the sweep retries */
    }
  });
  return image;
}

/** Makes an empty loop device (Method A's "partition"), detached at teardown. */
export function makeLoopDevice(scratch: Scratch, sizeMiB = 300): string {
  const image = scratch.path(`disk-${randomBytes(3).toString('hex')}.img`);
  sh(['truncate', '-s', `${sizeMiB}M`, image]);
  const dev = sh(['losetup', '--find', '--show', image]).trim();
  scratch.defer(() => {
    try {
      sh(['losetup', '-d', dev]);
    } catch {
      /* the sweep retries */
    }
  });
  return dev;
}

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** A throwaway OS user with its home under the scratch directory; deleted at teardown. */
export function makeUser(scratch: Scratch, home = scratch.path('home')): TestUser {
  const name = `lyt${randomBytes(3).toString('hex')}`;
  sh(['useradd', '--home-dir', `${home}/${name}`, '--create-home', '--shell', '/usr/sbin/nologin', name]);
  scratch.defer(() => {
    try {
      sh(['userdel', name]);
    } catch {
      /* already gone */
    }
  });
  const [, , uid, gid, , dir] = sh(['getent', 'passwd', name]).trim().split(':');
  return { name, uid: Number(uid), gid: Number(gid), home: dir! };
}

export function ids(name: string): { uid: number; gid: number } {
  const [, , uid, gid] = sh(['getent', 'passwd', name]).trim().split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
