// Reads a file from a directory someone else can write (the postgres user's log directory, PGDATA, an
// owner's state directory or snapshots/, the directory under a mount point): the last component is opened
// without following a link and without blocking (O_NOFOLLOW|O_NONBLOCK|O_NOCTTY: a FIFO planted there must
// not hang root, a link must not make root read what it points to), relative to an already verified
// directory fd where the caller has one; then fstat on that descriptor: a regular file only, of an
// expected owner where that matters, and size-bounded. Anything else is an UnsafeFileError saying what was
// found (never a hang, never the content); a missing file is `undefined`.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { RefusedError } from '../errors.js';
import type { Dir } from './fd.js';

const FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

export interface ReadFileOptions {
  /** whole (the default): a larger file is refused; head / tail: only its first / last maxBytes are read. */
  maxBytes: number;
  part?: 'whole' | 'head' | 'tail';
  /** The uids the file may belong to (e.g. the postgres user for its log); any owner when absent. */
  owners?: number[];
}

/** The file is there but is not one to read (a link, a FIFO, too large, someone else's). */
export class UnsafeFileError extends RefusedError {
  constructor(
    readonly file: string,
    /** e.g. "is a symbolic link": completes "<file> …". */
    readonly why: string,
  ) {
    super(`${file} ${why}; it was not read`);
  }
}

/** Where to read: a path (its last component is not followed), or a name inside an open directory. */
export type FileAt = string | { dir: Dir; name: string };

const shownOf = (at: FileAt): string => (typeof at === 'string' ? at : path.join(at.dir.path, at.name));

function kindOf(st: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

const size = (n: number): string => (n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`);

/** The file's bytes (or its first / last maxBytes); undefined when it does not exist. */
export async function readFileSafely(at: FileAt, opts: ReadFileOptions): Promise<Buffer | undefined> {
  if (typeof at !== 'string' && (at.name.includes('/') || !at.name)) throw new Error(`readFileSafely takes one name, got ${at.name}`);
  const file = typeof at === 'string' ? at : `${at.dir.anchor}/${at.name}`;
  const shown = shownOf(at);
  let fh;
  try {
    fh = await open(file, FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'ELOOP') throw new UnsafeFileError(shown, 'is a symbolic link');
    throw e;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new UnsafeFileError(shown, `is ${kindOf(st)}, not a regular file`);
    if (opts.owners && !opts.owners.includes(st.uid)) throw new UnsafeFileError(shown, `belongs to uid ${st.uid}, not ${opts.owners.join(' or ')}`);
    if ((opts.part ?? 'whole') === 'whole' && st.size > opts.maxBytes) throw new UnsafeFileError(shown, `is ${size(st.size)}, more than the ${size(opts.maxBytes)} it can be`);
    const len = Math.min(st.size, opts.maxBytes);
    const buf = Buffer.alloc(len);
    const { bytesRead } = await fh.read(buf, 0, len, opts.part === 'tail' ? st.size - len : 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The file as UTF-8 text; undefined when it does not exist. */
export async function readTextSafely(at: FileAt, opts: ReadFileOptions): Promise<string | undefined> {
  return (await readFileSafely(at, opts))?.toString('utf8');
}
