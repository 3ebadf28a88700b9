// The crypt lock: an flock(2) on a file in the state directory. The kernel drops it when the
// holder dies, so a kill -9 never leaves a stale lock behind.
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { constants, fstatSync } from 'node:fs';
import type { Activity, StartActivity } from '../context.js';
import { BusyError, RefusedError } from '../errors.js';
import { formatTime } from '../output/time.js';
import { closeDir } from '../sys/fd.js';
import { tryFlock } from '../sys/libc.js';
import { openTrustedDirOrThrow } from '../sys/trusted-path.js';

export interface LockOptions {
  /** Seconds to wait for another holder; 0 fails at once with exit 4. */
  waitSeconds: number;
  /** What takes the lock (the command), written into the lock file for whoever waits for it. */
  operation?: string;
  /** Shows the wait while it lasts (src/cli/ui/activity.ts). */
  activity?: StartActivity;
}

/** What the holder wrote into the lock file: informative only (shown to a waiting user), never trusted. */
export interface LockNote {
  pid: number;
  operation: string;
  since: string;
}

export function parseLockNote(text: string): LockNote | null {
  try {
    const n = JSON.parse(text) as Partial<LockNote>;
    if (typeof n.pid === 'number' && typeof n.operation === 'string' && typeof n.since === 'string') return { pid: n.pid, operation: n.operation, since: n.since };
  } catch {
    /* empty (a holder of an older version) or being written */
  }
  return null;
}

/** "snapshot (PID 1234, since 2026-11-30 01:02:03Z)", or "another lychd-crypt operation" when unknown. */
export function describeHolder(n: LockNote | null): string {
  if (!n) return 'another lychd-crypt operation';
  return `${/^[a-z-]+$/.test(n.operation) ? n.operation : 'an operation'} (PID ${n.pid}, since ${formatTime(n.since)})`;
}

async function readNote(fh: FileHandle): Promise<string> {
  const buf = Buffer.alloc(1024);
  const { bytesRead } = await fh.read(buf, 0, buf.length, 0).catch(() => ({ bytesRead: 0 }));
  return buf.subarray(0, bytesRead).toString('utf8');
}

/**
 * Opens the lock file through its directory, walked without following a link another user could have made
 * (a rootless crypt's state directory is in its owner's home; root must not create or truncate a file
 * wherever a link there points); missing directories are made on the way.
 */
async function openLock(lockFile: string): Promise<FileHandle> {
  const dir = await openTrustedDirOrThrow(path.dirname(lockFile), { create: { mode: 0o700 } });
  try {
    // Never through a link, never blocking on a FIFO someone put there: only a regular file is a lock.
    const fh = await open(`${dir.anchor}/${path.basename(lockFile)}`, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
    // Root (init on a rootless crypt) making the lock in its owner's state directory: the owner's, as the
    // directory is, or the owner's next command could not take it.
    const [file, parent] = [await fh.stat(), fstatSync(dir.fd)];
    if (process.getuid?.() === 0 && file.uid === 0 && parent.uid !== 0) await fh.chown(parent.uid, parent.gid);
    return fh;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ELOOP') throw e;
    throw new RefusedError(`the lock ${lockFile} is a symbolic link; it is not followed and nothing was changed`, { hint: 'Remove it; it is made again.' });
  } finally {
    await closeDir(dir);
  }
}

export async function withLock<T>(lockFile: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const fh = await openLock(lockFile);
  if (!(await fh.stat()).isFile()) {
    await fh.close();
    throw new RefusedError(`the lock ${lockFile} is not a regular file; nothing was changed`, { hint: 'Remove it; it is made again.' });
  }
  let waiting: Activity | undefined;
  try {
    const deadline = Date.now() + opts.waitSeconds * 1000;
    let shown = '';
    while (!(await tryFlock(fh.fd))) {
      const holder = describeHolder(parseLockNote(await readNote(fh)));
      if (Date.now() >= deadline) {
        waiting?.fail('gave up');
        throw new BusyError(
          opts.waitSeconds > 0
            ? `${holder} still holds the lock ${lockFile} after waiting ${opts.waitSeconds}s`
            : `${holder} holds the lock ${lockFile}`,
          { hint: opts.waitSeconds > 0 ? 'It is still running: try again when it is done, or wait longer with a larger --wait.' : 'Wait for it to finish, or pass --wait SECONDS.' },
        );
      }
      const text = `waiting up to ${opts.waitSeconds}s for the crypt lock: ${holder} holds it`;
      if (!waiting) waiting = opts.activity?.(text);
      else if (text !== shown) waiting.update(text);
      shown = text;
      await new Promise((r) => setTimeout(r, 100));
    }
    waiting?.done('got it');
    // Who holds it now, for anyone who waits (the kernel's flock is the lock; this text is only shown).
    await fh.truncate(0);
    await fh.write(JSON.stringify({ pid: process.pid, operation: opts.operation ?? 'lychd-crypt', since: new Date().toISOString() }), 0);
    return await fn();
  } finally {
    await fh.close(); // closing the last fd releases the flock
  }
}
