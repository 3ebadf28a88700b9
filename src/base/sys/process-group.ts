// Starting a program in its own process group, as a job-control shell does, through posix_spawn(3)
// (koffi; Node's spawn can only make a new *session*, which loses the controlling terminal): a time limit
// then stops COMMAND's whole tree with one kill(-pgid), and when the caller sits in the foreground of a
// terminal, COMMAND's group becomes the foreground (Ctrl-C, Ctrl-Z and reads from the terminal reach it,
// /dev/tty works) and the terminal is given back when it ends. Also starting one in a new *session* with
// chosen descriptors (spawnInSession): how root starts a process of another user, which must never hold
// root's terminal.
import { libcHandle } from './libc.js';

const POSIX_SPAWN_SETPGROUP = 0x02;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
const WNOHANG = 1;
const WUNTRACED = 2;
const SIG_BLOCK = 0;
const SIG_SETMASK = 2;
const SIGTTOU = 22;
/** Larger than glibc's posix_spawnattr_t (336), posix_spawn_file_actions_t (80) and sigset_t (128). */
const OPAQUE = 1024;

interface Libc {
  spawn: (pid: number[], path: string, fa: Buffer, attr: Buffer, argv: (string | null)[], envp: (string | null)[]) => number;
  faInit: (fa: Buffer) => number;
  faDestroy: (fa: Buffer) => number;
  faDup2: (fa: Buffer, from: number, to: number) => number;
  faOpen: (fa: Buffer, fd: number, path: string, flags: number, mode: number) => number;
  /** glibc ≥ 2.34: closes every descriptor from this one up in the child. */
  faClosefrom: ((fa: Buffer, from: number) => number) | null;
  /** glibc ≥ 2.35: the child makes its group the terminal's foreground before exec (no race with a read). */
  faTcsetpgrp: ((fa: Buffer, fd: number) => number) | null;
  attrInit: (a: Buffer) => number;
  attrDestroy: (a: Buffer) => number;
  attrFlags: (a: Buffer, flags: number) => number;
  attrPgroup: (a: Buffer, pgid: number) => number;
  attrSigdefault: (a: Buffer, set: Buffer) => number;
  attrSigmask: (a: Buffer, set: Buffer) => number;
  sigfillset: (s: Buffer) => number;
  sigemptyset: (s: Buffer) => number;
  sigaddset: (s: Buffer, sig: number) => number;
  sigmask: (how: number, set: Buffer, old: Buffer) => number;
  waitpid: (pid: number, status: number[], options: number) => number;
  isatty: (fd: number) => number;
  tcgetpgrp: (fd: number) => number;
  tcsetpgrp: (fd: number, pgid: number) => number;
  getpgrp: () => number;
  errno: () => number;
}

let libc: Promise<Libc> | undefined;

async function load(): Promise<Libc> {
  const { lib, errno } = await libcHandle();
  const optional = <T>(decl: string): T | null => {
    try {
      return lib.func(decl) as T;
    } catch {
      return null;
    }
  };
  // Older glibc: the parent hands the terminal over right after the spawn.
  const faTcsetpgrp = optional<Libc['faTcsetpgrp']>('int posix_spawn_file_actions_addtcsetpgrp_np(void *, int)');
  // Older glibc: descriptors the caller opened close-on-exec (all of Node's) are all the child loses.
  const faClosefrom = optional<Libc['faClosefrom']>('int posix_spawn_file_actions_addclosefrom_np(void *, int)');
  return {
    spawn: lib.func('int posix_spawn(_Out_ int *pid, const char *path, void *fa, void *attr, const char **argv, const char **envp)'),
    faInit: lib.func('int posix_spawn_file_actions_init(void *)'),
    faDestroy: lib.func('int posix_spawn_file_actions_destroy(void *)'),
    faDup2: lib.func('int posix_spawn_file_actions_adddup2(void *, int, int)'),
    faOpen: lib.func('int posix_spawn_file_actions_addopen(void *, int, const char *, int, unsigned int)'),
    faClosefrom,
    faTcsetpgrp,
    attrInit: lib.func('int posix_spawnattr_init(void *)'),
    attrDestroy: lib.func('int posix_spawnattr_destroy(void *)'),
    attrFlags: lib.func('int posix_spawnattr_setflags(void *, short)'),
    attrPgroup: lib.func('int posix_spawnattr_setpgroup(void *, int)'),
    attrSigdefault: lib.func('int posix_spawnattr_setsigdefault(void *, void *)'),
    attrSigmask: lib.func('int posix_spawnattr_setsigmask(void *, void *)'),
    sigfillset: lib.func('int sigfillset(void *)'),
    sigemptyset: lib.func('int sigemptyset(void *)'),
    sigaddset: lib.func('int sigaddset(void *, int)'),
    sigmask: lib.func('int pthread_sigmask(int, void *, void *)'),
    waitpid: lib.func('int waitpid(int, _Out_ int *status, int)'),
    isatty: lib.func('int isatty(int)'),
    tcgetpgrp: lib.func('int tcgetpgrp(int)'),
    tcsetpgrp: lib.func('int tcsetpgrp(int, int)'),
    getpgrp: lib.func('int getpgrp()'),
    errno,
  };
}

function getLibc(): Promise<Libc> {
  libc ??= load();
  return libc;
}

export class SpawnError extends Error {
  constructor(
    message: string,
    readonly errno: number,
  ) {
    super(message);
  }
}

export interface GroupSpawnOptions {
  env: NodeJS.ProcessEnv;
  /** fd 1 becomes a copy of fd 2 (with --json, stdout stays one JSON document). */
  stdoutToStderr: boolean;
  /** A terminal fd whose foreground group COMMAND's group becomes (see foregroundTerminal). */
  terminal: number | null;
}

const ERRNO: Record<number, string> = { 2: 'ENOENT', 8: 'ENOEXEC', 13: 'EACCES', 20: 'ENOTDIR', 7: 'E2BIG', 12: 'ENOMEM' };

/**
 * posix_spawn with every signal disposition reset and no signal blocked (Node ignores SIGPIPE; exec would
 * inherit it); `flags` and `actions` add what each kind of start needs. The child's pid.
 */
async function spawnWith(path: string, argv: string[], env: NodeJS.ProcessEnv, flags: number, actions: (c: Libc, fa: Buffer) => void): Promise<number> {
  const c = await getLibc();
  const fa = Buffer.alloc(OPAQUE);
  const attr = Buffer.alloc(OPAQUE);
  const all = Buffer.alloc(OPAQUE);
  const none = Buffer.alloc(OPAQUE);
  c.faInit(fa);
  c.attrInit(attr);
  try {
    c.sigfillset(all);
    c.sigemptyset(none);
    c.attrFlags(attr, flags | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    c.attrPgroup(attr, 0);
    c.attrSigdefault(attr, all);
    c.attrSigmask(attr, none);
    actions(c, fa);
    const envp = Object.entries(env)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${v}`);
    const pid = [0];
    const rc = c.spawn(pid, path, fa, attr, [...argv, null], [...envp, null]);
    if (rc !== 0) throw new SpawnError(`${argv[0]}: ${ERRNO[rc] ?? `errno ${rc}`}`, rc);
    return pid[0]!;
  } finally {
    c.faDestroy(fa);
    c.attrDestroy(attr);
  }
}

/** Starts `path` (already resolved) with `argv` as the leader of a new process group, with the caller's fds 0–2. */
export async function spawnInGroup(path: string, argv: string[], opts: GroupSpawnOptions): Promise<number> {
  let ownsTerminal = false;
  const pid = await spawnWith(path, argv, opts.env, POSIX_SPAWN_SETPGROUP, (c, fa) => {
    // libuv re-opens a terminal on fds 0-2 close-on-exec: dup2 onto itself clears that (glibc >= 2.29).
    c.faDup2(fa, 0, 0);
    c.faDup2(fa, 2, 2);
    c.faDup2(fa, opts.stdoutToStderr ? 2 : 1, 1);
    if (opts.terminal !== null && c.faTcsetpgrp) ownsTerminal = c.faTcsetpgrp(fa, opts.terminal) === 0;
  });
  if (opts.terminal !== null && !ownsTerminal) {
    // It may have read the terminal (and stopped, SIGTTIN) before it became the foreground: continue it.
    await giveTerminal(opts.terminal, pid);
    signalGroup(pid, 'SIGCONT');
  }
  return pid;
}

/** What one of fds 0–2 of a new session's leader is: the caller's own, a file opened for it, or a copy of a lower one. */
export type SessionFd = { kind: 'keep' } | { kind: 'open'; path: string; flags: number } | { kind: 'copy'; of: 0 | 1 };

/**
 * Starts `path` (already resolved) as the leader of a new session, with fds 0–2 as `fds` says and every
 * other descriptor closed. The session has no controlling terminal until its leader opens one: the first
 * terminal opened here (a pseudo-terminal's slave) becomes it; the caller's never does.
 */
export function spawnInSession(path: string, argv: string[], env: NodeJS.ProcessEnv, fds: readonly [SessionFd, SessionFd, SessionFd]): Promise<number> {
  return spawnWith(path, argv, env, POSIX_SPAWN_SETSID, (c, fa) => {
    fds.forEach((f, fd) => {
      if (f.kind === 'keep') c.faDup2(fa, fd, fd); // clears close-on-exec (see spawnInGroup)
      else if (f.kind === 'open') c.faOpen(fa, fd, f.path, f.flags, 0);
      else c.faDup2(fa, f.of, fd);
    });
    c.faClosefrom?.(fa, 3);
  });
}

export type WaitStatus = { kind: 'exited'; code: number } | { kind: 'signaled'; signal: number } | { kind: 'stopped'; signal: number };

/** The child's state change, if any (never blocks): waitpid(WNOHANG | WUNTRACED). */
export async function pollChild(pid: number): Promise<WaitStatus | null> {
  const c = await getLibc();
  const status = [0];
  const r = c.waitpid(pid, status, WNOHANG | WUNTRACED);
  if (r === 0) return null;
  if (r < 0) return { kind: 'exited', code: 127 }; // ECHILD: reaped elsewhere; nothing to report
  const s = status[0]!;
  if ((s & 0x7f) === 0) return { kind: 'exited', code: (s >> 8) & 0xff };
  if ((s & 0xff) === 0x7f) return { kind: 'stopped', signal: (s >> 8) & 0xff };
  return { kind: 'signaled', signal: s & 0x7f };
}

/** The first of fds 0, 2, 1 that is a terminal in whose foreground this process's group is, or null. */
export async function foregroundTerminal(): Promise<number | null> {
  const c = await getLibc();
  const own = c.getpgrp();
  for (const fd of [0, 2, 1]) if (c.isatty(fd) === 1 && c.tcgetpgrp(fd) === own) return fd;
  return null;
}

/** Makes `pgid` the terminal's foreground group; SIGTTOU is blocked so that a background caller may. */
export async function giveTerminal(fd: number, pgid: number): Promise<void> {
  const c = await getLibc();
  const block = Buffer.alloc(OPAQUE);
  const old = Buffer.alloc(OPAQUE);
  c.sigemptyset(block);
  c.sigaddset(block, SIGTTOU);
  c.sigmask(SIG_BLOCK, block, old);
  try {
    c.tcsetpgrp(fd, pgid);
  } finally {
    c.sigmask(SIG_SETMASK, old, block);
  }
}

export async function ownGroup(): Promise<number> {
  return (await getLibc()).getpgrp();
}

/** Signals every process of the group `pgid`; false when none is left. */
export const signalGroup = (pgid: number, signal: NodeJS.Signals | 0): boolean => signalTarget(-pgid, signal);

/** Signals the process `pid`; false when it is gone. */
export const signalProcess = (pid: number, signal: NodeJS.Signals | 0): boolean => signalTarget(pid, signal);

function signalTarget(target: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
