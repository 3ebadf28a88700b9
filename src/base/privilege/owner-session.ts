// Root's process for a crypt's owner runs as the leader of a session of its own (never in root's, whose
// controlling terminal it could open as /dev/tty): its fds 0–2 as planned (base/privilege/owner-stdio.ts), every
// other descriptor closed. Root waits for it, passing on the signals it receives, and says how it ended.
import { constants } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { pollChild, type SessionFd } from '../sys/process-group.js';
import { signalName } from '../die-by-signal.js';
import type { OwnerStdio } from './owner-stdio.js';

/** How often the owner's process is polled (waitpid WNOHANG: libuv reaps only the children it started). */
const POLL_MS = 25;

export type Ended = { kind: 'exited'; code: number } | { kind: 'signaled'; signal: NodeJS.Signals };

/** The session leader's fds 0–2: `slave` is the pseudo-terminal's path when the plan has one. */
export function sessionFds(plan: OwnerStdio, slave: string | null): [SessionFd, SessionFd, SessionFd] {
  const first = plan.fds.indexOf('pty') as 0 | 1 | -1;
  return plan.fds.map((f, fd): SessionFd => {
    if (f === 'keep') return { kind: 'keep' };
    if (f === 'null') return { kind: 'open', path: '/dev/null', flags: fd === 0 ? constants.O_RDONLY : constants.O_WRONLY };
    if (!slave) throw new Error('a pseudo-terminal is planned but none was opened');
    // Opened, not inherited: the first terminal a new session's leader opens becomes its controlling terminal.
    return fd === first ? { kind: 'open', path: slave, flags: constants.O_RDWR } : { kind: 'copy', of: first as 0 | 1 };
  }) as [SessionFd, SessionFd, SessionFd];
}

export interface Supervision {
  /** Signals root passes on while it waits, and to whom. */
  forward: Partial<Record<NodeJS.Signals, () => void>>;
  /** The process was stopped (Ctrl-Z in its terminal): root's part of job control. */
  stopped?: () => Promise<void>;
}

/** Waits for `pid` to end, with `how`'s signal handlers installed meanwhile. */
export async function superviseSession(pid: number, how: Supervision): Promise<Ended> {
  const handlers = Object.entries(how.forward) as [NodeJS.Signals, () => void][];
  for (const [sig, h] of handlers) process.on(sig, h);
  try {
    for (;;) {
      const st = await pollChild(pid);
      if (st === null) await sleep(POLL_MS);
      else if (st.kind === 'stopped') await how.stopped?.();
      else if (st.kind === 'exited') return { kind: 'exited', code: st.code };
      else return { kind: 'signaled', signal: signalName(st.signal) ?? 'SIGKILL' };
    }
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}
