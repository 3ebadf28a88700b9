// File helpers with crash-safety: write to a temp file, fsync, rename, fsync the directory.
import { open, rename, readFile, unlink, mkdir, chown, lstat } from 'node:fs/promises';
import path from 'node:path';
import { randomHex } from './ids.js';

export interface WriteOptions {
  mode?: number;
  owner?: { uid: number; gid: number };
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Replaces `file` atomically: readers see the old content or the new, never a torn one. */
export async function writeFileAtomic(file: string, content: string | Uint8Array, opts: WriteOptions = {}): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${randomHex(4)}.tmp`);
  const fh = await open(tmp, 'wx', opts.mode ?? 0o644);
  try {
    await fh.writeFile(content);
    if (opts.mode !== undefined) await fh.chmod(opts.mode); // umask must not weaken or widen it
    if (opts.owner) await fh.chown(opts.owner.uid, opts.owner.gid);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fh.close();
  await rename(tmp, file);
  await fsyncDir(dir);
}

export async function writeJsonAtomic(file: string, value: unknown, opts: WriteOptions = {}): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`, opts);
}

export async function readJsonIfExists<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

export async function chownIf(p: string, owner?: { uid: number; gid: number }): Promise<void> {
  if (owner) await chown(p, owner.uid, owner.gid);
}
