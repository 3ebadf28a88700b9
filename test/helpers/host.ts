// Builds scratch "hosts" for real tests: loop images with a filesystem, mounted under a Scratch,
// and throwaway OS users. Every resource is registered for teardown.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { REPO } from './env.js';
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

/** Every directory from `dir` up to / is root's, not a link, writable by no one else, and enterable by all. */
function rootsAloneAndOpen(dir: string): boolean {
  for (let d = dir; ; d = path.dirname(d)) {
    let st;
    try {
      st = lstatSync(d);
    } catch {
      return false;
    }
    if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0 || (st.mode & 0o001) === 0) return false;
    if (d === '/') return true;
  }
}

/** Whether files made in `dir` take the owner they are given (a checkout on a mount that maps or squashes owners does not). */
function ownersHold(dir: string): boolean {
  let probe: string | undefined;
  try {
    probe = mkdtempSync(path.join(dir, '.owner-probe-')); // a read-only place fails here: not this one
    chownSync(probe, 65534, 65534);
    return lstatSync(probe).uid === 65534;
  } catch {
    return false;
  } finally {
    if (probe) rmSync(probe, { recursive: true, force: true });
  }
}

/**
 * A fresh directory whose whole path is root's alone and open to users (so not /tmp, which anyone can
 * write), on a filesystem that keeps owners: the checkout's ignored .scratch/ when it allows that, else a
 * fresh directory in the first of /run, /var/lib, /home that does (a checkout may sit under /tmp, below a
 * directory only root can enter, or on a mount that does not keep owners). The caller removes it.
 * Test homes live here, and whatever a test must show to code that trusts only such a path.
 */
export function trustedPlace(): string {
  const own = path.join(REPO, '.scratch');
  mkdirSync(own, { recursive: true, mode: 0o755 });
  const base = [own, '/run', '/var/lib', '/home'].find((d) => rootsAloneAndOpen(d) && ownersHold(d));
  if (!base) throw new Error(`no directory whose path is root's alone, open to users, and keeps owners (tried ${own}, /run, /var/lib, /home)`);
  const dir = mkdtempSync(path.join(base, base === own ? 'homes-' : 'lychd-crypt-test-homes-'));
  chmodSync(dir, 0o755); // mkdtemp's 0700 would keep a user out of their own home
  return dir;
}

/** A trustedPlace() for the homes of test users (a user's home must be theirs alone); removed at teardown. */
export function trustedHomes(scratch: Scratch): string {
  const homes = trustedPlace();
  scratch.defer(() => rmSync(homes, { recursive: true, force: true }));
  return homes;
}

export function ids(name: string): { uid: number; gid: number } {
  const [, , uid, gid] = sh(['getent', 'passwd', name]).trim().split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
