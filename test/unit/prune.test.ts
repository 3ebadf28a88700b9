// The prune retention policy (pure).
import { describe, expect, test } from 'vitest';
import { newestFirst, parseAge, planPrune, type PruneCandidate } from '../../src/snapshots/prune-policy.js';

const now = new Date('2026-11-30T12:00:00Z');
const day = 86_400_000;
const snap = (name: string, daysAgo: number): PruneCandidate => ({ name, createdAt: new Date(now.getTime() - daysAgo * day).toISOString() });
const deleted = (d: ReturnType<typeof planPrune>) => d.filter((x) => x.action === 'delete').map((x) => x.name);

describe('prune policy', () => {
  const items = [snap('a', 40), snap('b', 35), snap('c', 20), snap('d', 10), snap('e', 1)];
  test('keep N only: the rest goes', () => {
    expect(deleted(planPrune(items, { keep: 2 }, now))).toEqual(['c', 'b', 'a']);
  });
  test('max-age only: older ones go, the newest never', () => {
    expect(deleted(planPrune(items, { maxAgeMs: 30 * day }, now))).toEqual(['b', 'a']);
    expect(deleted(planPrune([snap('old', 400), snap('older', 500)], { maxAgeMs: day }, now))).toEqual(['older']);
  });
  test('keep and max-age: keep the newest N, then anything young enough', () => {
    expect(deleted(planPrune(items, { keep: 1, maxAgeMs: 15 * day }, now))).toEqual(['c', 'b', 'a']);
    expect(deleted(planPrune(items, { keep: 4, maxAgeMs: 15 * day }, now))).toEqual(['a']);
    expect(deleted(planPrune(items, { keep: 10, maxAgeMs: day }, now))).toEqual([]);
  });
  test('keep 0 still keeps the newest', () => {
    const d = planPrune(items, { keep: 0 }, now);
    expect(deleted(d)).toEqual(['d', 'c', 'b', 'a']);
    expect(d[0]).toMatchObject({ name: 'e', action: 'keep', reason: expect.stringMatching(/newest/) });
  });
  test('input order does not matter; ties in one second sort by suffix', () => {
    const t = '2026-11-30T11:00:00.000Z';
    const tied: PruneCandidate[] = [
      { name: 'x-2', createdAt: t },
      { name: 'x-10', createdAt: t },
      { name: 'x', createdAt: t },
    ];
    expect(newestFirst(tied).map((s) => s.name)).toEqual(['x-10', 'x-2', 'x']);
    expect(deleted(planPrune([...items].reverse(), { keep: 2 }, now))).toEqual(['c', 'b', 'a']);
  });
  test('empty list', () => {
    expect(planPrune([], { keep: 3 }, now)).toEqual([]);
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
