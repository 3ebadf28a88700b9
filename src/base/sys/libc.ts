// Syscalls Node lacks, through koffi (FFI): renameat2(RENAME_EXCHANGE) for the atomic swap of
// active/, and flock(2) for the crypt lock, which the kernel releases when the holder dies.
import type { IKoffiLib } from 'koffi';
import { CryptError } from '../errors.js';

const AT_FDCWD = -100;
const RENAME_NOREPLACE = 1 << 0;
const RENAME_EXCHANGE = 1 << 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;

interface Libc {
  renameat2: (olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags: number) => number;
  flock: (fd: number, op: number) => number;
  errno: () => number;
}

let libc: Promise<Libc> | undefined;

export interface LibcHandle {
  lib: IKoffiLib;
  errno: () => number;
}

let handle: Promise<LibcHandle> | undefined;

/**
 * libc through koffi, loaded once for every module that declares functions from it (fd.ts,
 * process-group.ts, this file), and lazily: the runtime loads the native addon only when a command first
 * needs a syscall.
 */
export function libcHandle(): Promise<LibcHandle> {
  return (handle ??= (async () => {
    const koffi = (await import('koffi')).default;
    return { lib: koffi.load('libc.so.6'), errno: () => koffi.errno() };
  })());
}

async function load(): Promise<Libc> {
  const { lib, errno } = await libcHandle();
  return {
    renameat2: lib.func('int renameat2(int, const char *, int, const char *, unsigned int)'),
    flock: lib.func('int flock(int, int)'),
    errno,
  };
}

function getLibc(): Promise<Libc> {
  libc ??= load();
  return libc;
}

/** Swaps two paths in one atomic step: at no instant is either name missing. */
export async function exchangePaths(a: string, b: string): Promise<void> {
  const c = await getLibc();
  if (c.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) !== 0) {
    const errno = c.errno();
    throw new CryptError(`renameat2(RENAME_EXCHANGE) ${a} <-> ${b} failed: errno ${errno}`);
  }
}

/** Renames `a` to `b` only when `b` does not exist (RENAME_NOREPLACE): nothing of someone else's is replaced. */
export async function renameNoReplace(a: string, b: string): Promise<void> {
  const c = await getLibc();
  if (c.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE) !== 0) {
    const errno = c.errno();
    throw new CryptError(`renameat2(RENAME_NOREPLACE) ${a} -> ${b} failed: ${errno === 17 ? 'it exists already' : `errno ${errno}`}`);
  }
}

/** Takes an exclusive flock on an open fd; false when another process holds it. */
export async function tryFlock(fd: number): Promise<boolean> {
  const c = await getLibc();
  if (c.flock(fd, LOCK_EX | LOCK_NB) === 0) return true;
  const errno = c.errno();
  if (errno === EWOULDBLOCK) return false;
  throw new CryptError(`flock failed: errno ${errno}`);
}
