// The one place a stream's bytes pass through this process on their way between two programs (`btrfs send`
// → ssh, → `btrfs receive`, → zstd → a file): counted, held to a rate (a token bucket with one second of
// burst), hashed (sha256) when asked, and reported as progress. No dependency: pv and mbuffer, which btrbk
// and syncoid shell out to, are not needed for this.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

export interface MeterOptions {
  /** Bytes per second; null/undefined: unlimited. */
  rateBytesPerS?: number | null;
  /** Compute the sha256 of what passes. */
  hash?: boolean;
  /** Called at most every `progressEveryMs` (default 1000) and at the end, with the bytes so far. */
  onProgress?: (bytes: number, final: boolean) => void;
  progressEveryMs?: number;
  clock?: Clock;
}

/**
 * A pass-through that counts, limits and hashes. The bucket holds at most one second of tokens; a chunk
 * larger than what is there waits for the difference (tokens may go below zero, so a chunk is never split).
 */
export class Meter extends Transform {
  bytes = 0;
  private tokens: number;
  private last: number;
  private lastReport = -Infinity;
  private readonly digest: Hash | null;
  private readonly clock: Clock;

  constructor(private readonly opts: MeterOptions = {}) {
    super();
    this.clock = opts.clock ?? realClock;
    this.tokens = opts.rateBytesPerS ?? 0;
    this.last = this.clock.now();
    this.digest = opts.hash ? createHash('sha256') : null;
  }

  /** The sha256 (hex) of everything that passed; only once the stream ended. */
  get sha256(): string | null {
    return this.digest ? (this.hex ??= this.digest.digest('hex')) : null;
  }
  private hex: string | undefined;

  private report(final: boolean): void {
    const t = this.clock.now();
    if (!this.opts.onProgress || (!final && t - this.lastReport < (this.opts.progressEveryMs ?? 1000))) return;
    this.lastReport = t;
    this.opts.onProgress(this.bytes, final);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const rate = this.opts.rateBytesPerS;
    const pass = (): void => {
      this.bytes += chunk.length;
      this.digest?.update(chunk);
      this.report(false);
      done(null, chunk);
    };
    if (!rate) return pass();
    const t = this.clock.now();
    this.tokens = Math.min(rate, this.tokens + ((t - this.last) / 1000) * rate);
    this.last = t;
    this.tokens -= chunk.length;
    if (this.tokens >= 0) return pass();
    this.clock.sleep((-this.tokens / rate) * 1000).then(pass, done);
  }

  override _flush(done: TransformCallback): void {
    this.report(true);
    done();
  }
}

/** "124 MiB of ~316 MiB, 31 MiB/s": what a long transfer's progress line says. */
export function progressText(bytes: number, elapsedMs: number, total: number | null, size: (n: number) => string): string {
  const rate = elapsedMs > 0 ? (bytes / elapsedMs) * 1000 : 0;
  return `${size(bytes)}${total ? ` of ~${size(total)}` : ''}, ${size(rate)}/s`;
}

export class IdleError extends Error {}

/** Fails the stream (IdleError) when no byte arrived for `ms`: a sender that went silent, a link that stalled. */
export class IdleWatch extends Transform {
  private timer: NodeJS.Timeout | null = null;
  constructor(private readonly ms: number) {
    super();
    this.arm();
  }
  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.destroy(new IdleError(`no data for ${Math.round(this.ms / 1000)} s`)), this.ms);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.arm();
    done(null, chunk);
  }
  override _flush(done: TransformCallback): void {
    if (this.timer) clearTimeout(this.timer);
    done();
  }
  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    if (this.timer) clearTimeout(this.timer);
    cb(err);
  }
}
