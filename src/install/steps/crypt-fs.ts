// The filesystem init's steps act in, reached through a descriptor checked right before (see CryptFs):
// after the mount, the crypt path runs through directories its user can rename or swap, so a path string
// is never resolved again there; everything below is walked from the checked fd without following links.
import { fstatSync } from 'node:fs';
import path from 'node:path';
import { registerAnchor } from '../../base/anchors.js';
import { RefusedError } from '../../base/errors.js';
import type { CryptFs } from '../../model/steps.js';
import { btrfsFsUuid, closeDir, FdError, openDir, type Dir } from '../../base/sys/fd.js';
import { openTrustedDirOrThrow } from '../../base/sys/trusted-path.js';
import type { Action } from './module.js';

const ENOTTY = 25;
const TOP_INODE = 256;

function notIt(fs: CryptFs, why: string): RefusedError {
  return new RefusedError(`${fs.root} is not ${fs.uuid ? `the Btrfs filesystem ${fs.uuid} init mounted there` : 'a directory on Btrfs'}: ${why}; nothing was changed there`, {
    hint: 'Something moved or replaced it meanwhile. Look at the path (`ls -la`), put it back, and run init again.',
  });
}

/** Opens fs.root without following links and checks it is that filesystem's top (or, native, on Btrfs). */
export async function openCryptFs(fs: CryptFs): Promise<Dir> {
  const dir = await openTrustedDirOrThrow(fs.root);
  try {
    const uuid = await btrfsFsUuid(dir).catch((e: unknown) => {
      if (e instanceof FdError && e.errno === ENOTTY) return null;
      throw e;
    });
    if (!uuid) throw notIt(fs, 'it is not on Btrfs');
    if (fs.uuid && uuid !== fs.uuid) throw notIt(fs, `it is on the filesystem ${uuid}`);
    if (fs.uuid && fstatSync(dir.fd).ino !== TOP_INODE) throw notIt(fs, 'it is not the top of that filesystem');
    registerAnchor(dir.anchor, fs.root); // messages name the path, not the fd
    return dir;
  } catch (e) {
    await closeDir(dir);
    throw e;
  }
}

/** Runs fn on the directory `p` (fs.root or below it), reached through the checked filesystem; closes both. */
export async function withinCryptFs<T>(fs: CryptFs, p: string, fn: (dir: Dir) => Promise<T>): Promise<T> {
  const rel = path.relative(fs.root, p);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`${p} is not inside ${fs.root}`);
  const root = await openCryptFs(fs);
  try {
    if (!rel) return await fn(root);
    const dir = await openDir(rel, root);
    try {
      return await fn(dir);
    } finally {
      await closeDir(dir);
    }
  } finally {
    await closeDir(root);
  }
}

/** What a step inside the crypt checks first (see CryptFs), in the words of its description. */
export const verifyOp = (fs: CryptFs): Action => ({
  op: `open ${fs.root} without following a symbolic link and check it is ${fs.uuid ? `the top (inode 256) of the Btrfs filesystem ${fs.uuid}` : 'on Btrfs'}; act through that descriptor`,
});
