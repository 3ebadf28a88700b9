// Whether a server is running on a PGDATA: postmaster.pid names a PID, and that PID is alive and is a
// postgres process (a stale file after a crash, or a reused PID, does not count).
import { readFile } from 'node:fs/promises';
import { readTextSafely } from '../sys/read-file.js';
import path from 'node:path';

export interface PostmasterState {
  running: boolean;
  /** PID from postmaster.pid, when the file exists. */
  pid: number | null;
  /** Socket directory and port the server announced (lines 5 and 4 of postmaster.pid). */
  socketDir: string | null;
  port: number | null;
}

export async function isPostgresPid(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return false; // a zombie has exited; nobody reaped it yet
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8');
    return /postgres|postmaster/.test(comm);
  } catch {
    return false;
  }
}

export async function readPostmaster(pgdata: string): Promise<PostmasterState> {
  // PGDATA is the server user's: its postmaster.pid is read as a small regular file only (never a link or a FIFO).
  const text = await readTextSafely(path.join(pgdata, 'postmaster.pid'), { maxBytes: 64 * 1024 });
  if (text === undefined) return { running: false, pid: null, socketDir: null, port: null };
  const lines = text.split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const port = Number.parseInt(lines[3] ?? '', 10);
  const valid = Number.isInteger(pid) && pid > 0;
  return {
    running: valid ? await isPostgresPid(pid) : false,
    pid: valid ? pid : null,
    socketDir: lines[4]?.trim() || null,
    port: Number.isInteger(port) ? port : null,
  };
}
