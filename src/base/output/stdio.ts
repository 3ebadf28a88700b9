// The command's output without Node's process.stdout/stderr/stdin where they are not needed. Node builds
// those streams on first touch and loads its stream stack for them, and for a pipe or a socket the net
// module too: 7–9 ms of a runtime command's own start (paired, `snapshot --mode none` writing to pipes).
// Most runs write a few lines to a pipe, a file, the journal or /dev/null; there the text goes straight to
// the descriptor with write(2), as Node's own stdout does for a file. A terminal, or a descriptor that
// cannot be told apart from one, gets Node's stream: it knows the columns and the terminal's modes.
import { fstatSync, writeSync } from 'node:fs';
import { toTerminal } from './text.js';

/** Linux's memory devices (/dev/null, /dev/zero, /dev/full, …): character devices that are never terminals. */
const MEMORY_DEVICES_MAJOR = 1;

/** Whether `fd` may be a terminal: a character device other than a memory device, or unknown. */
export function mayBeTerminal(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    return st.isCharacterDevice() && ((st.rdev >> 8) & 0xfff) !== MEMORY_DEVICES_MAJOR;
  } catch {
    return true; // cannot tell: Node's stream decides, as before
  }
}

export interface Output {
  write(text: string): boolean;
  readonly isTTY: boolean;
  /** The terminal's width; undefined when not a terminal. */
  readonly columns: number | undefined;
}

/**
 * The descriptors whose reader went away (EPIPE: `lychd-crypt list | head -1`, `snapshot | false`). What is
 * written there after is dropped, quietly: the command's work goes on to its end and its exit status
 * stands — a reader that stopped reading never cuts an operation off midway, nor makes a stack trace.
 */
const gone = new Set<number>();
const isEpipe = (e: unknown): boolean => (e as NodeJS.ErrnoException | null)?.code === 'EPIPE';

/** Whether the reader of fd 1 or 2 went away during this process (tests and the entry ask). */
export const readerGone = (fd: 1 | 2): boolean => gone.has(fd);

/** Node's stream for fd, with EPIPE turned into "the reader went away" instead of an uncaught error. */
const listening = new Set<number>();
function nodeStream(fd: 1 | 2): NodeJS.WriteStream {
  const stream = fd === 1 ? process.stdout : process.stderr;
  if (!listening.has(fd)) {
    listening.add(fd);
    stream.on('error', (e: Error) => {
      if (!isEpipe(e)) throw e; // as Node would report it without a listener
      gone.add(fd);
    });
  }
  return stream;
}

/** stdout (1) or stderr (2) as the commands write to it. */
export function output(fd: 1 | 2): Output {
  const node = () => nodeStream(fd);
  if (mayBeTerminal(fd)) {
    return {
      write: (text) => (gone.has(fd) ? true : node().write(text)),
      get isTTY() {
        return Boolean(node().isTTY);
      },
      get columns() {
        return node().isTTY ? node().columns : undefined;
      },
    };
  }
  // Once a write fails — EAGAIN from a descriptor someone else made non-blocking, EPIPE, anything — the
  // rest goes, in order, to Node's stream, which queues what would block and reports errors as it always did.
  let handedOver = false;
  return {
    isTTY: false,
    columns: undefined,
    write(text) {
      if (gone.has(fd)) return true;
      if (handedOver) return node().write(text);
      const bytes = Buffer.from(text);
      let done = 0;
      try {
        while (done < bytes.length) done += writeSync(fd, bytes, done);
      } catch (e) {
        if (isEpipe(e)) {
          gone.add(fd);
          return true;
        }
        handedOver = true;
        return node().write(bytes.subarray(done));
      }
      return true;
    },
  };
}

/** Whether stdin is a terminal, without building process.stdin for a pipe, a file or /dev/null. */
export const stdinIsTTY = (): boolean => mayBeTerminal(0) && Boolean(process.stdin.isTTY);

/** Whether stderr is a terminal (what colour on stderr depends on). */
export const stderrIsTTY = (): boolean => mayBeTerminal(2) && Boolean(process.stderr.isTTY);

/**
 * The output sink: every write to `w` goes through toTerminal (src/base/output/text.ts) — messages, warnings,
 * hints, progress, help, --json — so no line can bring a raw control character, and colour only as the
 * tool's own styling marked it. Wrap once per stream (main does), never twice: the marks are gone after.
 */
export function throughSink<W extends { write(text: string): unknown }>(w: W): W {
  return new Proxy(w, { get: (target, prop) => (prop === 'write' ? (text: string) => target.write(toTerminal(text)) : Reflect.get(target, prop)) });
}
