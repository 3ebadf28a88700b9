// What fds 0–2 of root's process for a crypt's owner become (SPEC section 8: a process running as the owner
// never holds root's terminal). A descriptor that is a terminal gets a fresh pseudo-terminal root relays
// (base/privilege/owner-relay.ts); pipes and files pass as they are, so stdout and stderr stay apart and `--json >
// file` is byte for byte what it was (one pseudo-terminal carries both streams: on it they merge, as on
// the terminal they would reach anyway); stdin that is neither becomes /dev/null.
import { fstatSync } from 'node:fs';
import { isatty } from 'node:tty';

export type StdioKind = 'terminal' | 'pipe' | 'file' | 'other' | 'closed';
/** `pty`: the relay's pseudo-terminal; `keep`: root's own descriptor; `null`: /dev/null. */
export type OwnerFd = 'pty' | 'keep' | 'null';

export interface OwnerStdio {
  fds: [OwnerFd, OwnerFd, OwnerFd];
  /** Root's terminal descriptor the pseudo-terminal's output is written to; null: no pseudo-terminal, no relay. */
  output: 1 | 2 | null;
  /** Keys typed at root's terminal are relayed to the owner's process (stdin is the terminal). */
  input: boolean;
}

/** Root's fds 0–2 as the plan sees them. */
export function detectStdio(): [StdioKind, StdioKind, StdioKind] {
  const kind = (fd: number): StdioKind => {
    try {
      if (isatty(fd)) return 'terminal';
      const st = fstatSync(fd);
      return st.isFIFO() ? 'pipe' : st.isFile() ? 'file' : 'other';
    } catch {
      return 'closed';
    }
  };
  return [kind(0), kind(1), kind(2)];
}

/**
 * Every terminal among fds 0–2 becomes the pseudo-terminal (its output is written to root's terminal on
 * fd 1, else 2), but stdin only when stdout is a terminal too: keys are relayed (and root's
 * terminal made raw) only for a command that has the terminal to itself — in `lychd-crypt list | less`
 * the pager reads the keys, root does not. Other stdin (a socket, /dev/null, a device, a terminal in a
 * pipeline) becomes /dev/null, a pipe or a file is passed; stdout and stderr are passed unless closed.
 */
export function planOwnerStdio(kinds: readonly [StdioKind, StdioKind, StdioKind]): OwnerStdio {
  const input = kinds[0] === 'terminal' && kinds[1] === 'terminal';
  const fds = kinds.map((k, fd): OwnerFd => {
    if (fd === 0) return input ? 'pty' : k === 'pipe' || k === 'file' ? 'keep' : 'null';
    if (k === 'terminal') return 'pty';
    return k === 'closed' ? 'null' : 'keep';
  }) as OwnerStdio['fds'];
  const output = ([1, 2] as const).find((fd) => fds[fd] === 'pty') ?? null;
  return { fds, output, input };
}
