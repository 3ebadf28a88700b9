// The local retention keeps each target's newest copy (the base of its next incremental): a policy that
// would delete it keeps it, naming why; the free-space floor may still take it (it is not protected).
import { describe, expect, test } from 'vitest';
import { applyRetention, type RetentionItem } from '../../src/runtime/retention/policy.js';
import { floorCandidates } from '../../src/runtime/retention/floor.js';

const items: RetentionItem[] = [
  { name: 's1', createdAt: '2026-12-01T00:00:00Z' },
  { name: 's2', createdAt: '2026-12-02T00:00:00Z', replicaBase: true },
  { name: 's3', createdAt: '2026-12-03T00:00:00Z' },
  { name: 's4', createdAt: '2026-12-04T00:00:00Z' },
];

describe('replica base', () => {
  test('kept by the policy with its reason; without the mark it goes', () => {
    const d = applyRetention(items, { last: 1 }, new Date('2026-12-05T00:00:00Z'));
    expect(d.filter((x) => x.action === 'keep').map((x) => x.name).sort()).toEqual(['s2', 's4']);
    const base = d.find((x) => x.name === 's2')!;
    expect(base.reason).toMatch(/newest copy on a replication target/);
    expect(base.protected).toBe(false);
    const plain = applyRetention(items.map(({ replicaBase: _, ...i }) => i), { last: 1 }, new Date('2026-12-05T00:00:00Z'));
    expect(plain.filter((x) => x.action === 'keep').map((x) => x.name)).toEqual(['s4']);
  });

  test('the free-space floor may take it after the policy\'s own rejects', () => {
    const d = applyRetention(items, { last: 1 }, new Date('2026-12-05T00:00:00Z'));
    expect(floorCandidates(d)).toEqual(['s1', 's3', 's2']);
  });
});
