// Root at a terminal re-running a command as a crypt's owner: the owner's process gets a fresh
// pseudo-terminal that root holds the master of, never root's own terminal (as `su --pty` and sudo's
// use_pty do: a process of the owner's holding root's terminal could type into root's shell with TIOCSTI,
// or take the descriptor with pidfd_getfd and read what root types). Root relays bytes both ways, passes
// on the window size and signals, takes part in job control (Ctrl-Z), and gives its terminal its modes
// back on every way out. Loaded only when such a drop happens at a terminal.
import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import { ownGroup, signalGroup, signalProcess, type SessionFd } from '../sys/process-group.js';
import { terminalOps } from '../sys/pty.js';
import { relayFilter } from '../output/relay-filter.js';
import { sessionFds, superviseSession, type Ended } from './owner-session.js';
import type { OwnerStdio } from './owner-stdio.js';

/** Retry delay when the pseudo-terminal's input is full (the owner's process is not reading). */
const FULL_RETRY_MS = 10;

/**
 * Starts the owner's process through `launch` (given its fds 0–2) on a fresh pseudo-terminal and relays
 * between it and root's terminal until it ends; how it ended.
 */
export async function relayAsOwner(plan: OwnerStdio, launch: (fds: [SessionFd, SessionFd, SessionFd]) => Promise<number>): Promise<Ended> {
  const term = plan.output!;
  const ops = await terminalOps();
  const own = await ownGroup();
  // The modes the pseudo-terminal starts with, and root's stdin gets back (when keys are relayed, stdin is the terminal).
  const saved = ops.getModes(plan.input ? 0 : term);
  const pty = ops.openPty();
  let out = -1;
  let reader: ReadStream | undefined;
  let raw = false;
  const pending: Buffer[] = [];
  let retry: NodeJS.Timeout | undefined;

  // What root's terminal shows: written through a descriptor of its own, blocking, whatever Node did to fds 0–2;
  // only what src/base/output/relay-filter.ts lets pass (the owner controls these bytes, not the tool's output sink).
  const filter = relayFilter();
  const write = (bytes: Buffer) => {
    try {
      for (let done = 0; done < bytes.length; ) done += writeSync(out, bytes, done);
    } catch {
      /* the terminal is gone: the owner's process still runs to its end */
    }
  };
  const toTerminal = (chunk: Buffer) => write(filter.push(chunk));
  // Keys for the owner's process; kept in order while its input is full.
  const flushToPty = () => {
    retry = undefined;
    while (pending.length) {
      try {
        const n = writeSync(pty.master, pending[0]!);
        if (n < pending[0]!.length) pending[0] = pending[0]!.subarray(n);
        else pending.shift();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') retry = setTimeout(flushToPty, FULL_RETRY_MS);
        else pending.length = 0; // EIO: nobody holds the other side any more
        return;
      }
    }
  };
  const toPty = (chunk: Buffer) => {
    pending.push(chunk);
    if (!retry) flushToPty();
  };
  // EIO: root's terminal hung up; SIGHUP follows and is passed on.
  const hungUp = () => {};
  // Root reads its terminal raw (keys, Ctrl-C included, go to the pseudo-terminal, whose own line
  // discipline turns them into signals) only while it is that terminal's foreground: a background job
  // touching it would be stopped (SIGTTIN, SIGTTOU).
  const inForeground = () => ops.foreground(term) === own;
  const enterRaw = () => {
    if (!plan.input || raw || !inForeground()) return;
    ops.setModes(0, ops.raw(saved));
    raw = true;
    process.stdin.on('data', toPty).on('error', hungUp).resume();
  };
  const leaveRaw = (flush: boolean) => {
    if (!raw) return;
    process.stdin.off('data', toPty).off('error', hungUp).pause();
    raw = false;
    try {
      // At the end, keys not read yet are dropped rather than left to root's shell.
      ops.setModes(0, saved, { flush });
    } catch {
      /* the terminal is gone: nothing to give back */
    }
  };
  // Node's own exit handling puts fds 0–2 back as they were at start; this covers a path around it.
  const restoreOnExit = () => leaveRaw(true);

  try {
    const slave = openSync(pty.slave, constants.O_RDWR | constants.O_NOCTTY);
    try {
      // The pseudo-terminal starts as root's terminal is: its modes (without output processing when root's
      // is not made raw, so that NL → CR NL happens once) and its size.
      ops.setModes(slave, plan.input ? saved : ops.withoutOutputProcessing(saved), { now: true });
      ops.copyWindowSize(term, pty.master);
      out = openSync(`/proc/self/fd/${term}`, constants.O_WRONLY | constants.O_NOCTTY);
    } finally {
      closeSync(slave);
    }
    const pid = await launch(sessionFds(plan, pty.slave));
    process.once('exit', restoreOnExit);
    enterRaw();
    reader = new ReadStream(pty.master);
    reader.on('data', toTerminal);
    reader.on('error', () => {}); // EIO once the last process holding the other side is gone

    // Signals meant for the job go where the terminal's own would: to the pseudo-terminal's foreground.
    const toForeground = (sig: NodeJS.Signals) => () => void signalGroup(ops.foreground(pty.master) ?? pid, sig);
    const toProcess = (sig: NodeJS.Signals) => () => void signalProcess(pid, sig);
    return await superviseSession(pid, {
      forward: {
        SIGWINCH: () => ops.copyWindowSize(term, pty.master),
        SIGINT: toForeground('SIGINT'),
        SIGQUIT: toForeground('SIGQUIT'),
        SIGTSTP: toForeground('SIGTSTP'),
        SIGTERM: toProcess('SIGTERM'),
        SIGHUP: toProcess('SIGHUP'),
      },
      // Ctrl-Z stopped the owner's process: root's job stops too, so that root's shell gets its terminal;
      // `fg` continues root, which continues the owner's process group.
      stopped: async () => {
        if (!inForeground()) return;
        leaveRaw(false);
        process.kill(-own, 'SIGSTOP');
        enterRaw();
        ops.copyWindowSize(term, pty.master);
        signalGroup(pid, 'SIGCONT');
      },
    });
  } finally {
    if (retry) clearTimeout(retry);
    if (reader) {
      // What the owner's process wrote last: what the stream holds, then what is left in the pty.
      while (reader.readableLength > 0 && reader.read() !== null);
      reader.off('data', toTerminal);
      // A stream ended by EIO has read everything and closed the master already (its number may be reused).
      if (!reader.destroyed) drain(pty.master, toTerminal);
      reader.destroy();
      write(filter.flush());
    } else closeSync(pty.master);
    leaveRaw(true);
    process.off('exit', restoreOnExit);
    if (out >= 0) closeSync(out);
  }
}

/** Reads the non-blocking `fd` until nothing is left (EAGAIN) or nobody holds the other side (EIO). */
function drain(fd: number, sink: (chunk: Buffer) => void): void {
  const buf = Buffer.alloc(65536);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch {
      return;
    }
    if (n <= 0) return;
    sink(Buffer.from(buf.subarray(0, n)));
  }
}
