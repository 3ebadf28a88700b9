// The retention policy on synthetic times (pure): levels, gaps, pins, protected snapshots, UTC and ISO weeks.
import { describe, expect, test } from 'vitest';
import { applyRetention, isEmptyPolicy, type RetentionItem, type RetentionPolicy } from '../../src/runtime/retention/policy.js';
import { isoWeek, periodKey } from '../../src/runtime/retention/periods.js';
import { floorCandidates } from '../../src/runtime/retention/floor.js';
import { formatAge } from '../../src/model/units.js';

const H = 3_600_000;
const D = 24 * H;
const at = (iso: string, extra: Partial<RetentionItem> = {}): RetentionItem => ({ name: iso.replace(/[-:]/g, '').replace(/\.\d+/, ''), createdAt: iso, ...extra });
/** One snapshot every `stepMs` from `start`, `n` of them. */
function series(start: string, stepMs: number, n: number): RetentionItem[] {
  const t0 = Date.parse(start);
  return Array.from({ length: n }, (_, i) => at(new Date(t0 + i * stepMs).toISOString()));
}
const kept = (items: RetentionItem[], p: RetentionPolicy, now: Date) =>
  applyRetention(items, p, now)
    .filter((d) => d.action === 'keep')
    .map((d) => d.createdAt)
    .sort();

describe('periods', () => {
  test('ISO weeks across year boundaries (checked against date +%G-W%V)', () => {
    expect(isoWeek(new Date('2026-01-01T00:00:00Z'))).toEqual({ year: 2026, week: 1 }); // Thursday
    expect(isoWeek(new Date('2027-01-01T12:00:00Z'))).toEqual({ year: 2026, week: 53 }); // Friday of 2026-W53
    expect(isoWeek(new Date('2024-12-30T00:00:00Z'))).toEqual({ year: 2025, week: 1 }); // Monday
    expect(isoWeek(new Date('2021-01-03T23:59:59Z'))).toEqual({ year: 2020, week: 53 }); // Sunday
    expect(isoWeek(new Date('2021-01-04T00:00:00Z'))).toEqual({ year: 2021, week: 1 });
    expect(periodKey('weekly', new Date('2026-11-23T20:55:12Z'))).toBe('2026-W48');
  });
  test('keys are UTC, whatever TZ says', () => {
    const d = new Date('2026-03-29T01:30:00Z'); // the hour Europe skips
    expect(periodKey('hourly', d)).toBe('2026-03-29T01');
    expect(periodKey('daily', new Date('2026-12-31T23:59:59.999Z'))).toBe('2026-12-31');
    expect(periodKey('monthly', new Date('2026-02-28T23:00:00Z'))).toBe('2026-02');
    expect(periodKey('yearly', new Date('2027-01-01T00:00:00Z'))).toBe('2027');
  });
});

describe('retention policy', () => {
  const now = new Date('2026-11-30T12:00:00Z');

  test('hourly: the first snapshot of each of the newest N hours that have one', () => {
    // Every 15 minutes for 6 hours: 09:00 … 14:45 would be the future; use 04:00 … 09:45.
    const items = series('2026-11-30T04:00:00Z', 15 * 60_000, 24);
    const d = applyRetention(items, { hourly: 3 }, now);
    expect(d.filter((x) => x.rules.includes('hourly')).map((x) => x.createdAt)).toEqual([
      '2026-11-30T09:00:00.000Z',
      '2026-11-30T08:00:00.000Z',
      '2026-11-30T07:00:00.000Z',
    ]);
    expect(kept(items, { hourly: 3 }, now)).toEqual(['2026-11-30T07:00:00.000Z', '2026-11-30T08:00:00.000Z', '2026-11-30T09:00:00.000Z', '2026-11-30T09:45:00.000Z']);
    expect(d[0]!.rules).toEqual(['newest']);
    expect(d.find((x) => x.createdAt === '2026-11-30T08:00:00.000Z')).toMatchObject({ reason: 'hourly 2026-11-30T08', periods: { hourly: '2026-11-30T08' } });
  });

  test('a long gap does not age history out: periods without snapshots are not counted', () => {
    // Daily snapshots for 10 days, then the machine is off for 3 weeks, then one more.
    const items = [...series('2026-10-01T03:00:00Z', D, 10), at('2026-11-01T03:00:00.000Z')];
    expect(kept(items, { daily: 7 }, now)).toEqual([
      '2026-10-05T03:00:00.000Z',
      '2026-10-06T03:00:00.000Z',
      '2026-10-07T03:00:00.000Z',
      '2026-10-08T03:00:00.000Z',
      '2026-10-09T03:00:00.000Z',
      '2026-10-10T03:00:00.000Z',
      '2026-11-01T03:00:00.000Z',
    ]);
  });

  test('levels overlap: a snapshot kept by several rules lists them all; any rule keeps it', () => {
    const items = series('2026-11-01T00:00:00Z', 6 * H, 4 * 30); // every 6 h through November
    const d = applyRetention(items, { last: 2, daily: 3, weekly: 2, monthly: 2 }, now);
    const first = d.find((x) => x.createdAt === '2026-11-01T00:00:00.000Z')!;
    expect(first.rules).toEqual(['monthly']);
    expect(first.periods).toEqual({ monthly: '2026-11' });
    // Monday 2026-11-23 00:00 starts W48 and is also the first of its day only if daily reaches back that far (it does not).
    expect(d.find((x) => x.createdAt === '2026-11-23T00:00:00.000Z')!.rules).toEqual(['weekly']);
    const newest = d[0]!;
    expect(newest.createdAt).toBe('2026-11-30T18:00:00.000Z');
    expect(newest.rules).toEqual(['newest', 'last']);
    expect(d.find((x) => x.createdAt === '2026-11-30T00:00:00.000Z')!.rules).toEqual(['daily', 'weekly']);
    expect(d.find((x) => x.createdAt === '2026-11-30T00:00:00.000Z')!.reason).toBe('daily 2026-11-30, weekly 2026-W49');
    expect(d.filter((x) => x.action === 'keep')).toHaveLength(7); // newest+last (2) + 3 daily (one also W49) + W48 + 2026-11
  });

  test('weekly and yearly across a year boundary', () => {
    // A snapshot every day at noon from 2026-12-20 to 2027-01-10.
    const items = series('2026-12-20T12:00:00Z', D, 22);
    const d = applyRetention(items, { weekly: 3, yearly: 2 }, new Date('2027-01-11T00:00:00Z'));
    const weekly = d.filter((x) => x.rules.includes('weekly')).map((x) => [x.createdAt.slice(0, 10), x.periods.weekly]);
    expect(weekly).toEqual([
      ['2027-01-04', '2027-W01'],
      ['2026-12-28', '2026-W53'], // 2027-01-01..03 belong to 2026-W53
      ['2026-12-21', '2026-W52'],
    ]);
    const yearly = d.filter((x) => x.rules.includes('yearly')).map((x) => x.createdAt.slice(0, 10));
    expect(yearly).toEqual(['2027-01-01', '2026-12-20']);
  });

  test('pins, the newest and the newest pre-rollback are never deleted and are protected', () => {
    const items = [
      at('2026-01-01T00:00:00.000Z', { pinned: true }),
      at('2026-02-01T00:00:00.000Z', { preRollback: true }),
      at('2026-03-01T00:00:00.000Z', { preRollback: true }),
      at('2026-04-01T00:00:00.000Z'),
      at('2026-05-01T00:00:00.000Z'),
    ];
    const d = applyRetention(items, { last: 0 }, now);
    expect(d.map((x) => [x.createdAt.slice(0, 7), x.action, x.rules, x.protected])).toEqual([
      ['2026-05', 'keep', ['newest'], true],
      ['2026-04', 'delete', [], false],
      ['2026-03', 'keep', ['newest-pre-rollback'], true],
      ['2026-02', 'delete', [], false],
      ['2026-01', 'keep', ['pinned'], true],
    ]);
    expect(d[1]!.reason).toBe('no rule keeps it');
    // A kept-by-policy snapshot is not protected.
    expect(applyRetention(items, { last: 2 }, now)[1]).toMatchObject({ action: 'keep', rules: ['last'], protected: false });
  });

  test('the old flags map onto last/within with the old outcomes', () => {
    const snap = (name: string, daysAgo: number): RetentionItem => ({ name, createdAt: new Date(now.getTime() - daysAgo * D).toISOString() });
    const items = [snap('a', 40), snap('b', 35), snap('c', 20), snap('d', 10), snap('e', 1)];
    const del = (p: RetentionPolicy) =>
      applyRetention(items, p, now)
        .filter((x) => x.action === 'delete')
        .map((x) => x.name);
    expect(del({ last: 2 })).toEqual(['c', 'b', 'a']); // --keep 2
    expect(del({ within: 30 * D })).toEqual(['b', 'a']); // --max-age 30d
    expect(del({ last: 1, within: 15 * D })).toEqual(['c', 'b', 'a']);
    expect(del({ last: 4, within: 15 * D })).toEqual(['a']);
    expect(del({ last: 0 })).toEqual(['d', 'c', 'b', 'a']); // --keep 0 still keeps the newest
    expect(applyRetention(items, { within: 30 * D }, now).find((x) => x.name === 'c')!.reason).toBe('within 30d');
  });

  test('order of input, empty input, empty policy, zero counts', () => {
    const items = series('2026-11-29T00:00:00Z', H, 30);
    expect(kept([...items].reverse(), { hourly: 5, daily: 2 }, now)).toEqual(kept(items, { hourly: 5, daily: 2 }, now));
    expect(applyRetention([], { daily: 3 }, now)).toEqual([]);
    expect(isEmptyPolicy({})).toBe(true);
    expect(isEmptyPolicy({ yearly: 0 })).toBe(false);
    // daily: 0 keeps nothing by that rule: only the newest.
    expect(kept(items, { daily: 0 }, now)).toEqual([items.at(-1)!.createdAt]);
  });

  test('two snapshots in one second: the -2 suffix is the later one', () => {
    const t = '2026-11-30T11:00:00.000Z';
    const d = applyRetention([{ name: 'x-2', createdAt: t }, { name: 'x', createdAt: t }], { hourly: 1 }, now);
    expect(d.map((x) => [x.name, x.rules])).toEqual([
      ['x-2', ['newest']],
      ['x', ['hourly']],
    ]);
  });

  test('a year of hourly snapshots under a sanoid-like template keeps a bounded set', () => {
    const items = series('2025-12-01T00:30:00Z', H, 365 * 24);
    const end = new Date(Date.parse(items.at(-1)!.createdAt) + H);
    const d = applyRetention(items, { hourly: 36, daily: 30, weekly: 8, monthly: 12, yearly: 2 }, end);
    const keep = d.filter((x) => x.action === 'keep');
    // At most the sum of the counts (+1 newest), at least the largest count.
    expect(keep.length).toBeLessThanOrEqual(36 + 30 + 8 + 12 + 2 + 1);
    expect(keep.length).toBeGreaterThanOrEqual(36);
    expect(d.filter((x) => x.rules.includes('monthly'))).toHaveLength(12);
    expect(d.filter((x) => x.rules.includes('yearly')).map((x) => x.periods.yearly)).toEqual(['2026', '2025']);
  });

  test('formatAge', () => {
    expect(formatAge(30 * D)).toBe('30d');
    expect(formatAge(14 * D)).toBe('2w');
    expect(formatAge(90 * 60_000)).toBe('90m');
    expect(formatAge(45_000)).toBe('45s');
  });
});

describe('free-space floor order', () => {
  test('policy rejects first, then the oldest kept; protected never', () => {
    const items = [
      at('2026-01-01T00:00:00.000Z', { pinned: true }),
      at('2026-02-01T00:00:00.000Z'),
      at('2026-03-01T00:00:00.000Z', { preRollback: true }),
      at('2026-04-01T00:00:00.000Z'),
      at('2026-05-01T00:00:00.000Z'),
      at('2026-06-01T00:00:00.000Z'),
    ];
    const d = applyRetention(items, { last: 3 }, new Date('2026-07-01T00:00:00Z'));
    // last 3 keeps 06, 05, 04; 02 is rejected; 01 pinned, 03 newest pre-rollback, 06 newest.
    expect(floorCandidates(d).map((n) => n.slice(0, 6))).toEqual(['202602', '202604', '202605']);
    expect(floorCandidates(applyRetention([items[5]!], {}, new Date()))).toEqual([]);
  });
});
