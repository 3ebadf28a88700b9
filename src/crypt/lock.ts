// The crypt lock: an flock(2) on a file in the state directory. The kernel drops it when the
// holder dies, so a kill -9 never leaves a stale lock behind.
import { open, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { constants } from 'node:fs';
import type { Activity, StartActivity } from '../core/context.js';
import { BusyError, RefusedError } from '../core/errors.js';
import { formatTime } from '../core/time.js';
import { tryFlock } from '../sys/libc.js';

export interface LockOptions {
  /** Seconds to wait for another holder; 0 fails at once with exit 4. */
  waitSeconds: number;
  /** What takes the lock (the command), written into the lock file for whoever waits for it. */
  operation?: string;
  /** Shows the wait while it lasts (src/ui/activity.ts). */
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

async function readNote(fh: import('node:fs/promises').FileHandle): Promise<string> {
  const buf = Buffer.alloc(1024);
  const { bytesRead } = await fh.read(buf, 0, buf.length, 0).catch(() => ({ bytesRead: 0 }));
  return buf.subarray(0, bytesRead).toString('utf8');
}

export async function withLock<T>(lockFile: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  await mkdir(path.dirname(lockFile), { recursive: true, mode: 0o700 });
  // Never through a link, never blocking on a FIFO someone put there: only a regular file is a lock.
  const fh = await open(lockFile, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
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
