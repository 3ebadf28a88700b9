// Ending this process the way a signal ends one, so whoever waits for it sees "killed by SIGxxx" (a shell's
// 128+n, a supervisor's restart policy) — never a success. Sending the signal to ourselves is not always
// enough: if Node's own signal watcher has not let go of it yet (it does so on a later turn of the event
// loop), the watcher takes the signal and, with nothing left to do, Node exits 0 (13 under a top-level
// await), as if the interrupted command had succeeded. So the loop is kept alive, the signal is sent again
// once the watcher is gone, and should it still not land, the exit status (set here; the process ends when
// the last timer has run — process.exit stays the CLI entry's) says which signal it was.
import { constants } from 'node:os';

export function dieBySignal(sig: NodeJS.Signals): Promise<never> {
  process.kill(process.pid, sig);
  return new Promise<never>(() => {
    setTimeout(() => process.kill(process.pid, sig), 100);
    setTimeout(() => (process.exitCode = 128 + (constants.signals[sig] ?? 0)), 5_000);
  });
}

/** The name of signal number `n` (SIGINT for 2), or null for a number Node does not know. */
export const signalName = (n: number): NodeJS.Signals | null =>
  (Object.entries(constants.signals).find(([, v]) => v === n)?.[0] as NodeJS.Signals | undefined) ?? null;
