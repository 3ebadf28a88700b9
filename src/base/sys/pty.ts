// Pseudo-terminals and terminal modes through koffi: a fresh pty pair for a process of another user (root's
// own terminal is never handed over, see base/privilege/owner-relay.ts), a terminal's modes (termios) read, made raw
// and put back, and its window size copied.
import { closeSync, constants } from 'node:fs';
import { endianness } from 'node:os';
import { FdError } from './fd.js';
import { libcHandle } from './libc.js';

/** Not in Node's constants; posix_openpt's descriptor is not opened through libuv, which would add it. */
const O_CLOEXEC = 0o2000000;
/** tcsetattr's `when`. */
const TCSA = { now: 0, drain: 1, flush: 2 } as const;
/** TIOCGWINSZ and TIOCSWINSZ, and struct winsize (four unsigned shorts). */
const WINSIZE = { get: 0x5413, set: 0x5414, bytes: 8 } as const;
/** struct termios (60 bytes in glibc): c_oflag is its second field, OPOST that field's first bit. */
const TERMIOS = { bytes: 64, oflag: 4, opost: 0o1 } as const;

interface Libc {
  posixOpenpt: (flags: number) => number;
  grantpt: (fd: number) => number;
  unlockpt: (fd: number) => number;
  ptsnameR: (fd: number, buf: Buffer, len: number) => number;
  tcgetattr: (fd: number, t: Buffer) => number;
  tcsetattr: (fd: number, when: number, t: Buffer) => number;
  cfmakeraw: (t: Buffer) => void;
  ioctl: (fd: number, req: number, arg: Buffer) => number;
  tcgetpgrp: (fd: number) => number;
  errno: () => number;
}

let libc: Promise<Libc> | undefined;

function getLibc(): Promise<Libc> {
  return (libc ??= (async () => {
    const { lib, errno } = await libcHandle();
    return {
      posixOpenpt: lib.func('int posix_openpt(int)'),
      grantpt: lib.func('int grantpt(int)'),
      unlockpt: lib.func('int unlockpt(int)'),
      ptsnameR: lib.func('int ptsname_r(int, _Out_ uint8_t *, unsigned long)'),
      tcgetattr: lib.func('int tcgetattr(int, _Out_ uint8_t *)'),
      tcsetattr: lib.func('int tcsetattr(int, int, const uint8_t *)'),
      cfmakeraw: lib.func('void cfmakeraw(_Inout_ uint8_t *)'),
      ioctl: lib.func('int ioctl(int, unsigned long, _Inout_ uint8_t *)'),
      tcgetpgrp: lib.func('int tcgetpgrp(int)'),
      errno,
    };
  })());
}

function fail(c: Libc, op: string, target: string): never {
  throw new FdError(op, target, c.errno());
}

/** A fresh pseudo-terminal pair. */
export interface Pty {
  /** The master side: close-on-exec and non-blocking; whoever holds it reads what the other side writes. */
  master: number;
  /** The slave's path (/dev/pts/N): what the other side opens to make it its controlling terminal. */
  slave: string;
}

/** The calls a relay needs, bound once loaded: synchronous, for signal handlers, stream events and 'exit'. */
export interface TerminalOps {
  /** A fresh pseudo-terminal pair (posix_openpt, grantpt, unlockpt, ptsname). */
  openPty(): Pty;
  /** The terminal's modes, as an opaque copy. */
  getModes(fd: number): Buffer;
  /** Puts modes back: `flush` also drops input not read yet (TCSAFLUSH), else output is drained first. */
  setModes(fd: number, modes: Buffer, opts?: { now?: boolean; flush?: boolean }): void;
  /** `modes` made raw (cfmakeraw: no echo, no line editing, no signals from keys, no output processing). */
  raw(modes: Buffer): Buffer;
  /** `modes` without output processing (no NL → CR NL): bytes pass as written. */
  withoutOutputProcessing(modes: Buffer): Buffer;
  /** Copies the window size of terminal `from` to terminal `to` (the kernel then signals SIGWINCH there). */
  copyWindowSize(from: number, to: number): void;
  /** The foreground process group of the terminal (for a master: of its slave), or null. */
  foreground(fd: number): number | null;
}

export async function terminalOps(): Promise<TerminalOps> {
  const c = await getLibc();
  return {
    openPty() {
      const master = c.posixOpenpt(constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK | O_CLOEXEC);
      if (master < 0) fail(c, 'posix_openpt', 'a pseudo-terminal');
      const name = Buffer.alloc(128);
      const pty = 'the pseudo-terminal';
      try {
        if (c.grantpt(master) !== 0) fail(c, 'grantpt', pty);
        if (c.unlockpt(master) !== 0) fail(c, 'unlockpt', pty);
        if (c.ptsnameR(master, name, name.length) !== 0) fail(c, 'ptsname', pty);
      } catch (e) {
        closeSync(master);
        throw e;
      }
      return { master, slave: name.toString('latin1', 0, name.indexOf(0)) };
    },
    getModes(fd) {
      const t = Buffer.alloc(TERMIOS.bytes);
      if (c.tcgetattr(fd, t) !== 0) fail(c, 'tcgetattr', `fd ${fd}`);
      return t;
    },
    setModes(fd, modes, opts = {}) {
      if (c.tcsetattr(fd, opts.now ? TCSA.now : opts.flush ? TCSA.flush : TCSA.drain, modes) !== 0) fail(c, 'tcsetattr', `fd ${fd}`);
    },
    raw(modes) {
      const t = Buffer.from(modes);
      c.cfmakeraw(t);
      return t;
    },
    withoutOutputProcessing(modes) {
      const t = Buffer.from(modes);
      const [read, write] = endianness() === 'LE' ? (['readUInt32LE', 'writeUInt32LE'] as const) : (['readUInt32BE', 'writeUInt32BE'] as const);
      t[write]((t[read](TERMIOS.oflag) & ~TERMIOS.opost) >>> 0, TERMIOS.oflag);
      return t;
    },
    copyWindowSize(from, to) {
      const ws = Buffer.alloc(WINSIZE.bytes);
      if (c.ioctl(from, WINSIZE.get, ws) === 0) c.ioctl(to, WINSIZE.set, ws);
    },
    foreground(fd) {
      const pgrp = c.tcgetpgrp(fd);
      return pgrp > 0 ? pgrp : null;
    },
  };
}
