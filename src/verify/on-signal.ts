// Ctrl-C or a `kill` during verify must not leave the clone's server running: pg_ctl daemonizes it (in its
// own session), so it would outlive us. While a clone exists, SIGINT/SIGTERM/SIGHUP first remove it, then
// the signal is raised again with the default action, so the exit status still says "killed by SIGxxx".
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Installs the handlers; returns the function that removes them (call it in a `finally`). */
export function cleanupOnSignal(cleanup: () => Promise<void>): () => void {
  let running = false;
  const handler = (sig: NodeJS.Signals): void => {
    if (running) return; // a second Ctrl-C while cleaning up: keep cleaning up
    running = true;
    void cleanup()
      .catch(() => {})
      .finally(() => {
        remove();
        process.kill(process.pid, sig);
      });
  };
  const remove = (): void => {
    for (const s of SIGNALS) process.off(s, handler);
  };
  for (const s of SIGNALS) process.on(s, handler);
  return remove;
}
