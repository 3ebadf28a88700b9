// The meter every stream passes (base/pump.ts): it counts, hashes, reports, and holds a rate (a token bucket
// with a second of burst) — checked on a fake clock, never on the wall clock.
import { describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IdleError, IdleWatch, Meter, progressText, type Clock } from '../../src/base/pump.js';

function fakeClock(): Clock & { slept: number[]; t: number } {
  const c = {
    t: 0,
    slept: [] as number[],
    now: () => c.t,
    sleep: async (ms: number) => {
      c.slept.push(ms);
      c.t += ms;
    },
  };
  return c;
}

const sink = () => new Writable({ write: (_c, _e, d) => d() });

describe('the meter', () => {
  test('counts, hashes and reports every byte', async () => {
    const data = [Buffer.alloc(1000, 1), Buffer.alloc(24, 2)];
    const seen: [number, boolean][] = [];
    const clock = fakeClock();
    const m = new Meter({ hash: true, clock, onProgress: (n, final) => seen.push([n, final]), progressEveryMs: 0 });
    await pipeline(Readable.from(data), m, sink());
    expect(m.bytes).toBe(1024);
    expect(m.sha256).toBe(createHash('sha256').update(Buffer.concat(data)).digest('hex'));
    expect(seen.at(-1)).toEqual([1024, true]);
  });

  test('holds the rate: one second of burst, then the bytes at the rate', async () => {
    const clock = fakeClock();
    const m = new Meter({ rateBytesPerS: 1000, clock });
    // 10 chunks of 500 B at 1000 B/s: the first 1000 B pass at once (burst), the other 4000 B take 4 s.
    await pipeline(Readable.from(Array.from({ length: 10 }, () => Buffer.alloc(500))), m, sink());
    expect(m.bytes).toBe(5000);
    expect(Math.round(clock.t)).toBe(4000);
    // A chunk larger than the bucket waits for its share, it is never split.
    const c2 = fakeClock();
    const big = new Meter({ rateBytesPerS: 1000, clock: c2 });
    await pipeline(Readable.from([Buffer.alloc(3000)]), big, sink());
    expect(Math.round(c2.t)).toBe(2000);
  });

  test('an idle stream fails by itself', async () => {
    const r = new Readable({ read() {} });
    r.push(Buffer.from('a'));
    const e = await pipeline(r, new IdleWatch(50), sink()).then(() => null, (x: Error) => x);
    expect(e).toBeInstanceOf(IdleError);
    expect(e!.message).toMatch(/no data for 0 s/);
  });

  test('progress text', () => {
    const size = (n: number) => `${Math.round(n)}B`;
    expect(progressText(500, 1000, 2000, size)).toBe('500B of ~2000B, 500B/s');
    expect(progressText(500, 0, null, size)).toBe('500B, 0B/s');
  });
});
