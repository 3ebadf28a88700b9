// The phase timer of the operations that report where their time went (snapshot, rollback, verify):
// milliseconds with one decimal, in the order the phases ran.
// hrtime rather than performance.now(): the global loads perf_hooks' modules on first use, and the runtime
// commands keep their start cheap (test/unit/startup.test.ts).
const now = (): number => Number(process.hrtime.bigint()) / 1e6;

export class Phases {
  readonly timings: Record<string, number> = {};
  private readonly t0 = now();
  /** Runs fn and records its time under name, also when it throws. */
  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const start = now();
    try {
      return await fn();
    } finally {
      this.timings[name] = Math.round((now() - start) * 10) / 10;
    }
  }
  /** Milliseconds since the timer was made. */
  total(): number {
    return Math.round((now() - this.t0) * 10) / 10;
  }
}
