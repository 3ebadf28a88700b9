// The crypt lock: an flock(2) on a file in the state directory. The kernel drops it when the
// holder dies, so a kill -9 never leaves a stale lock behind.
import { open, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { constants } from 'node:fs';
import { BusyError, RefusedError } from '../core/errors.js';
import { tryFlock } from '../sys/libc.js';

export interface LockOptions {
  /** Seconds to wait for another holder; 0 fails at once with exit 4. */
  waitSeconds: number;
}

export async function withLock<T>(lockFile: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  await mkdir(path.dirname(lockFile), { recursive: true, mode: 0o700 });
  // Never through a link, never blocking on a FIFO someone put there: only a regular file is a lock.
  const fh = await open(lockFile, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
  if (!(await fh.stat()).isFile()) {
    await fh.close();
    throw new RefusedError(`the lock ${lockFile} is not a regular file; nothing was changed`, { hint: 'Remove it; it is made again.' });
  }
  try {
    const deadline = Date.now() + opts.waitSeconds * 1000;
    while (!(await tryFlock(fh.fd))) {
      if (Date.now() >= deadline) {
        throw new BusyError(
          opts.waitSeconds > 0
            ? `another lychd-crypt operation still holds the lock ${lockFile} after waiting ${opts.waitSeconds}s`
            : `another lychd-crypt operation holds the lock ${lockFile}`,
          { hint: opts.waitSeconds > 0 ? 'It is still running: try again when it is done, or wait longer with a larger --wait.' : 'Wait for it to finish, or pass --wait SECONDS.' },
        );
      }
      await sleep(100);
    }
    return await fn();
  } finally {
    await fh.close(); // closing the last fd releases the flock
  }
}
