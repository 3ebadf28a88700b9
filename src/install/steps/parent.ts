// The directory a step makes or changes something in: through the checked filesystem when the step names
// one, else walked from / without following a link a user could have made.
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { CryptFs } from '../../model/steps.js';
import { closeDir, type Dir } from '../../base/sys/fd.js';
import { openTrustedDirOrThrow } from '../../base/sys/trusted-path.js';
import { withinCryptFs } from './crypt-fs.js';

export async function isDir(p: string): Promise<boolean> {
  return (await lstat(p).catch(() => null))?.isDirectory() ?? false;
}

/** The parent of `p`: through the checked filesystem when `fs` is given, else walked from / without following a user's link. */
export async function withParent<T>(p: string, fs: CryptFs | undefined, fn: (parent: Dir, name: string) => Promise<T>): Promise<T> {
  if (fs) return withinCryptFs(fs, path.dirname(p), (parent) => fn(parent, path.basename(p)));
  const parent = await openTrustedDirOrThrow(path.dirname(p));
  try {
    return await fn(parent, path.basename(p));
  } finally {
    await closeDir(parent);
  }
}

/** `p` itself: through the checked filesystem when `fs` is given, else walked without following links. */
export async function withDir<T>(p: string, fs: CryptFs | undefined, fn: (dir: Dir) => Promise<T>): Promise<T> {
  if (fs) return withinCryptFs(fs, p, fn);
  const dir = await openTrustedDirOrThrow(p);
  try {
    return await fn(dir);
  } finally {
    await closeDir(dir);
  }
}
