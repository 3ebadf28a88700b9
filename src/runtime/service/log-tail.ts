// The last lines of the server log pg_ctl writes, for messages that must explain why PostgreSQL did not
// start or crashed (a PANIC on a full crypt is only explained there). The log's directory belongs to the
// server's OS user, who can put anything there: the directory is walked without following links, and the
// log is read only when it is a regular file of that user (src/base/sys/read-file.ts) — a link to a root-only
// file, a FIFO or a hard link to someone else's file is named, never read.
import path from 'node:path';
import { closeDir, FdError, NotFollowedError, openDirIfExists } from '../../base/sys/fd.js';
import { readTextSafely, UnsafeFileError } from '../../base/sys/read-file.js';

/** Only the end of the log is read. */
const TAIL_BYTES = 64 * 1024;

export interface LogTail {
  /** Up to `lines` last lines; '' when there is no log (or it was not read). */
  text: string;
  /** Why the log was not read (a link, a FIFO, another owner's file), else null. */
  problem: string | null;
}

/** `owner`: the uid the log must belong to (the server's OS user, who writes it). */
export async function readLogTail(file: string, owner: number, lines = 20): Promise<LogTail> {
  let dir;
  try {
    dir = await openDirIfExists(path.dirname(file));
  } catch (e) {
    if (e instanceof NotFollowedError || e instanceof FdError) return { text: '', problem: `${path.dirname(file)} was not read: ${e.message}` };
    throw e;
  }
  if (!dir) return { text: '', problem: null };
  try {
    const text = await readTextSafely({ dir, name: path.basename(file) }, { maxBytes: TAIL_BYTES, part: 'tail', owners: [owner] });
    return { text: (text ?? '').trimEnd().split('\n').slice(-lines).join('\n'), problem: null };
  } catch (e) {
    if (e instanceof UnsafeFileError) return { text: '', problem: e.message };
    if ((e as NodeJS.ErrnoException).code === 'EACCES') return { text: '', problem: `${file} cannot be read (permission denied)` };
    throw e;
  } finally {
    await closeDir(dir);
  }
}
