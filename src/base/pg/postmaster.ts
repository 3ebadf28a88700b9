// Whether a server is running on a PGDATA: postmaster.pid names a PID, and that PID is a live postgres
// process (a stale file after a crash, or a reused PID, does not count). A server in the owner's container
// writes the PID it has in the container's own PID namespace: the host process is the postgres whose
// innermost PID (NSpid) is that one and whose working directory is this PGDATA.
import { readdir, readFile, stat } from 'node:fs/promises';
import { readTextSafely } from '../sys/read-file.js';
import path from 'node:path';
import { nsOp } from '../userns/helper.js';
import { onTree, throughUserns } from '../userns/tree.js';

export interface PostmasterState {
  running: boolean;
  /** PID from postmaster.pid — the host's PID of the postmaster when it runs — when the file exists. */
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

/** A postmaster works in its PGDATA (it changes into it first): true, false, or null when we may not look. */
async function worksIn(pid: number, pgdata: { dev: number; ino: number } | null): Promise<boolean | null> {
  if (!pgdata) return null;
  const cwd = await stat(`/proc/${pid}/cwd`).catch(() => null);
  return cwd ? cwd.dev === pgdata.dev && cwd.ino === pgdata.ino : null;
}

/** The host PID of a containerised postgres whose PID in its own namespace is `inner` and that works in PGDATA. */
async function hostPidOf(inner: number, pgdata: { dev: number; ino: number } | null): Promise<number | null> {
  if (!pgdata) return null;
  for (const p of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(p)) continue;
    const status = await readFile(`/proc/${p}/status`, 'utf8').catch(() => '');
    const ns = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/).map(Number) ?? [];
    if (ns.length < 2 || ns[ns.length - 1] !== inner) continue;
    const pid = Number(p);
    if ((await isPostgresPid(pid)) && (await worksIn(pid, pgdata)) === true) return pid;
  }
  return null;
}

interface PostmasterFile {
  pid: number | null;
  socketDir: string | null;
  port: number | null;
}

/** postmaster.pid as it is (null: none). PGDATA is the server user's: a small regular file only, never a link or a FIFO. */
export const postmasterFileOp = nsOp('postmaster-file', async (_ctx, pgdata: string): Promise<PostmasterFile | null> => {
  const text = await readTextSafely(path.join(pgdata, 'postmaster.pid'), { maxBytes: 64 * 1024 });
  if (text === undefined) return null;
  const lines = text.split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const port = Number.parseInt(lines[3] ?? '', 10);
  return { pid: Number.isInteger(pid) && pid > 0 ? pid : null, socketDir: lines[4]?.trim() || null, port: Number.isInteger(port) ? port : null };
});

export async function readPostmaster(pgdata: string): Promise<PostmasterState> {
  const file = await onTree(pgdata, null, postmasterFileOp, pgdata);
  if (!file) return { running: false, pid: null, socketDir: null, port: null };
  if (file.pid === null) return { running: false, ...file };
  if (!throughUserns(pgdata)) return { running: await isPostgresPid(file.pid), ...file };
  // A container's: its PID is the container's own; the host's postgres with that innermost PID in this PGDATA.
  const here = await stat(pgdata).catch(() => null);
  const host = await hostPidOf(file.pid, here);
  return host !== null ? { ...file, running: true, pid: host } : { running: false, ...file };
}
