// Snapshot order and ages (pure). The prune decisions themselves: test/unit/retention-policy.test.ts
// ("the old flags map onto last/within with the old outcomes" keeps the original cases).
import { describe, expect, test } from 'vitest';
import { newestFirst, type PruneCandidate } from '../../src/runtime/snapshots/order.js';
import { parseAge } from '../../src/model/units.js';

const day = 86_400_000;

describe('prune helpers', () => {
  test('ties in one second sort by suffix', () => {
    const t = '2026-11-30T11:00:00.000Z';
    const tied: PruneCandidate[] = [
      { name: 'x-2', createdAt: t },
      { name: 'x-10', createdAt: t },
      { name: 'x', createdAt: t },
    ];
    expect(newestFirst(tied).map((s) => s.name)).toEqual(['x-10', 'x-2', 'x']);
  });
  test('ages', () => {
    expect(parseAge('30d')).toBe(30 * day);
    expect(parseAge('12h')).toBe(12 * 3_600_000);
    expect(parseAge('2w')).toBe(14 * day);
    expect(parseAge('90m')).toBe(90 * 60_000);
    expect(parseAge('thirty')).toBeUndefined();
    expect(parseAge('-1d')).toBeUndefined();
    expect(parseAge('1y')).toBeUndefined();
  });
});
