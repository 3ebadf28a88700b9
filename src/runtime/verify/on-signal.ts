// Ctrl-C or a `kill` during verify must not leave the clone's server running: pg_ctl daemonizes it (in its
// own session), so it would outlive us. While a clone exists, SIGINT/SIGTERM/SIGHUP first remove it, then
// the signal is raised again with the default action, so the exit status still says "killed by SIGxxx".
import { dieBySignal } from '../../base/die-by-signal.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface SignalGuard {
  /** When a signal's cleanup runs: waits for it, and never returns (the process then dies by the signal). */
  settle(): Promise<void>;
  /** Removes the handlers (after the normal cleanup). */
  remove(): void;
}

/** Installs the handlers. Each cleanup step runs even when an earlier one failed. */
export function cleanupOnSignal(steps: Array<() => Promise<unknown>>): SignalGuard {
  let inflight: Promise<void> | undefined;
  const handler = (sig: NodeJS.Signals): void => {
    if (inflight) return; // a second Ctrl-C while cleaning up: keep cleaning up
    inflight = (async () => {
      for (const step of steps) await step().catch(() => {});
      remove();
      await dieBySignal(sig);
    })();
  };
  const remove = (): void => {
    for (const s of SIGNALS) process.off(s, handler);
  };
  for (const s of SIGNALS) process.on(s, handler);
  return {
    async settle() {
      if (!inflight) return;
      await inflight;
      await new Promise<never>(() => {}); // the re-raised signal ends the process
    },
    remove,
  };
}
