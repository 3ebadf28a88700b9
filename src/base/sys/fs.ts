// File helpers with crash-safety: write to a temp file, fsync, rename, fsync the directory.
import { closeSync, fchmodSync, fchownSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { randomHex } from '../ids.js';
import { jsonText } from '../output/text.js';
import { readTextSafely } from './read-file.js';

export interface WriteOptions {
  mode?: number;
  owner?: { uid: number; gid: number };
}

// The durable writes are synchronous, on the main thread, on purpose. Btrfs batches the fsyncs of its
// log tree: when more than one thread has joined a log transaction (log_multiple_pids), its fsync sleeps a
// scheduler tick first so the others can join. Node's promise API runs each call on a thread of libuv's
// pool, so a write, its fsync and the directory's fsync land on different threads, and each fsync on the
// crypt waited that tick: measured 6–13 ms for the directory fsync after a snapshot's metadata, against
// 0.7–0.9 ms from one thread (scripts/bench-startup.mjs, `snapshot --mode none`). A command does one thing
// at a time, so nothing waits on the main thread meanwhile.

export async function fsyncDir(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `file` atomically: readers see the old content or the new, never a torn one. */
export async function writeFileAtomic(file: string, content: string | Uint8Array, opts: WriteOptions = {}): Promise<void> {
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${randomHex(4)}.tmp`);
  const fd = openSync(tmp, 'wx', opts.mode ?? 0o644);
  try {
    writeFileSync(fd, content);
    if (opts.mode !== undefined) fchmodSync(fd, opts.mode); // umask must not weaken or widen it
    if (opts.owner) fchownSync(fd, opts.owner.uid, opts.owner.gid);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, file);
  await fsyncDir(dir);
}

export async function writeJsonAtomic(file: string, value: unknown, opts: WriteOptions = {}): Promise<void> {
  // jsonText: a control character in a value is a \uNNNN escape, never a raw byte in the file.
  await writeFileAtomic(file, `${jsonText(value, 2)}\n`, opts);
}

/** The tool's own JSON files (marker, run records) are small; a larger one is not one of them. */
const MAX_JSON_BYTES = 1024 * 1024;

/**
 * Parsed JSON, or undefined when the file does not exist. Read as src/base/sys/read-file.ts reads: a link, a
 * FIFO or a file too large to be ours is an UnsafeFileError, never followed, waited on or loaded whole.
 */
export async function readJsonIfExists<T>(file: string): Promise<T | undefined> {
  const text = await readTextSafely(file, { maxBytes: MAX_JSON_BYTES });
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

export async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

