// The replication plan (pure) on recorded inventories: the base by origin UUID (never by name), full when
// there is none, candidates the target's retention would drop at once not sent, never deleting the newest
// copy, file:// rotation and re-basing, chain closure in retention; and the chains themselves.
import { describe, expect, test } from 'vitest';
import { planReplication, type LocalSnapshot, type PlanInput } from '../../src/runtime/replicate/plan.js';
import { analyseChains, closeOverChains, type StreamEntry } from '../../src/runtime/replicate/stream/chain.js';
import type { Copy, Inventory } from '../../src/runtime/replicate/stream/target.js';
import type { Sidecar } from '../../src/runtime/replicate/stream/header.js';

const NOW = new Date('2026-12-07T12:00:00Z');
const t = (h: number) => new Date(NOW.getTime() - h * 3_600_000).toISOString();
const name = (h: number) => t(h).replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
const local = (h: number, origin = `o${h}`): LocalSnapshot => ({ name: name(h), createdAt: t(h), originUuid: origin, pinned: false, preRollback: false });

function sidecar(h: number, parent: number | null, chain?: { full: number; index: number }): Sidecar {
  return {
    format: 1,
    snapshot: { format: 1, name: name(h), label: null, createdAt: t(h), mode: 'none', origin: { kind: 'snapshot' }, postgres: null, btrfs: null, timings: {}, toolVersion: 't' },
    origin: { uuid: `o${h}`, parentUuid: parent === null ? null : `o${parent}`, ctransid: 1 },
    from: { host: 'h', crypt: 'c', fsUuid: 'f', profile: 'system', toolVersion: 't' },
    ids: { owner: { user: 'u', uid: 1, gid: 1 }, postgres: null },
    sentAt: t(h),
    estimatedBytes: null,
    stream: { file: `${name(h)}.btrfs.zst`, bytes: 100, sha256: '0'.repeat(64), rawBytes: 200, compression: 'zstd' },
    ...(chain ? { chain: { full: name(chain.full), index: chain.index } } : {}),
  };
}
const copy = (h: number, parent: number | null = null, chain?: { full: number; index: number }): Copy => ({
  name: name(h),
  originUuid: `o${h}`,
  parentOriginUuid: parent === null ? null : `o${parent}`,
  createdAt: t(h),
  pinned: false,
  preRollback: false,
  bytes: 1,
  sidecar: sidecar(h, parent, chain),
});
const inv = (copies: Copy[], extra: Partial<Inventory> = {}): Inventory => ({ copies, broken: [], chainIndex: {}, cleaned: [], freeBytes: null, ...extra });
const input = (i: Inventory, extra: Partial<PlanInput> = {}): PlanInput => ({ kind: 'ssh', policy: null, fullEvery: 30, inventory: i, ...extra });
const sends = (p: ReturnType<typeof planReplication>) => p.sends.map((s) => `${s.kind} ${s.name}${s.parent ? ` <- ${s.parent.name}` : ''}`);

describe('planReplication', () => {
  test('nothing held: the oldest full, the rest incremental, oldest first', () => {
    const p = planReplication([local(3), local(1), local(2)], input(inv([])), NOW);
    expect(p.common).toBeNull();
    expect(sends(p)).toEqual([`full ${name(3)}`, `incremental ${name(2)} <- ${name(3)}`, `incremental ${name(1)} <- ${name(2)}`]);
    expect(p.sends[0]!.reason).toBe('the first copy');
  });

  test('the base is matched by origin UUID, not by name; up to date sends nothing', () => {
    // The target holds a copy NAMED like local(2) but of another snapshot: no common base by it.
    const imposter = { ...copy(2), originUuid: 'other' };
    const p = planReplication([local(3), local(2), local(1)], input(inv([copy(3), imposter])), NOW);
    expect(p.common).toEqual({ name: name(3), originUuid: 'o3' });
    expect(sends(p)).toEqual([`incremental ${name(2)} <- ${name(3)}`, `incremental ${name(1)} <- ${name(2)}`]);
    expect(planReplication([local(2), local(1)], input(inv([copy(2), copy(1)])), NOW)).toMatchObject({ sends: [], deletes: [] });
    // A restored snapshot keeps its origin: a new host continues on the same target.
    const restored = { ...local(2), name: name(2), originUuid: 'o2' };
    expect(sends(planReplication([restored, local(1)], input(inv([copy(2)])), NOW))).toEqual([`incremental ${name(1)} <- ${name(2)}`]);
  });

  test('no common snapshot with copies present: a full, and why', () => {
    const p = planReplication([local(1)], input(inv([copy(5)])), NOW);
    expect(p.sends).toMatchObject([{ kind: 'full', reason: 'no common snapshot with the target' }]);
  });

  test('target retention: candidates it would drop at once are not sent; the newest always is; never the newest copy deleted', () => {
    // Hourly snapshots to a target keeping one a day (and the last 1).
    const hours = [50, 49, 30, 29, 28, 5, 4, 1];
    const p = planReplication(hours.map((h) => local(h)), input(inv([copy(50)]), { policy: { daily: 3, last: 1 } }), NOW);
    const sent = p.sends.map((s) => s.name);
    expect(sent).toContain(name(1)); // the newest always goes: it is the next base
    expect(sent).not.toContain(name(49)); // same day as 50
    expect(sent.length).toBeLessThan(hours.length - 1);
    expect(p.deletes.map((d) => d.name)).not.toContain(name(1));
    // keepLast 1 over what is held: everything but the newest goes; the newest never.
    const q = planReplication([local(3), local(2), local(1)], input(inv([copy(3), copy(2), copy(1)]), { policy: { last: 1 } }), NOW);
    expect(q.deletes.map((d) => d.name).sort()).toEqual([name(3), name(2)].sort());
    const one = planReplication([local(1)], input(inv([copy(1)]), { policy: { last: 0 } }), NOW);
    expect(one.deletes).toEqual([]);
  });

  test('file://: rotation to a new full every fullEvery incrementals', () => {
    const copies = [copy(9, null, { full: 9, index: 0 }), copy(8, 9, { full: 9, index: 1 })];
    const p = planReplication([9, 8, 7, 6, 5].map((h) => local(h)), input(inv(copies, { chainIndex: { [name(9)]: 0, [name(8)]: 1 } }), { kind: 'file', fullEvery: 2 }), NOW);
    expect(p.sends.map((s) => [s.kind, s.chain!.index])).toEqual([
      ['incremental', 2],
      ['full', 0],
      ['incremental', 1],
    ]);
    expect(p.sends[1]!.reason).toMatch(/^rotation: 2 incrementals since the last full \(fullEvery 2\)/);
    expect(p.sends[2]!.chain).toEqual({ full: name(6), index: 1 });
  });

  test('file://: the newest copy broken → re-base on a new full; broken ones removed once a newer full is there', () => {
    const copies = [copy(9, null, { full: 9, index: 0 })];
    const broken = [
      { name: name(7), originUuid: 'o7', createdAt: t(7), why: 'its stream x is missing' },
      { name: name(6), originUuid: 'o6', createdAt: t(6), why: 'the chain is broken at x' },
    ];
    const p = planReplication([9, 8, 7, 6, 5].map((h) => local(h)), input(inv(copies, { broken, chainIndex: { [name(9)]: 0 } }), { kind: 'file' }), NOW);
    expect(sends(p)).toEqual([`full ${name(5)}`]);
    expect(p.sends[0]!.reason).toMatch(/^re-base: .* cannot be restored \(the chain is broken at x\)/);
    expect(p.deletes.map((d) => [d.name, d.broken])).toEqual([
      [name(7), true],
      [name(6), true],
    ]);
  });

  test('file://: retention keeps every stream a kept copy needs', () => {
    const copies = [copy(9, null, { full: 9, index: 0 }), copy(8, 9, { full: 9, index: 1 }), copy(7, 8, { full: 9, index: 2 })];
    const p = planReplication([local(9), local(8), local(7)], input(inv(copies, { chainIndex: { [name(9)]: 0, [name(8)]: 1, [name(7)]: 2 } }), { kind: 'file', policy: { last: 1 } }), NOW);
    expect(p.deletes).toEqual([]); // 7 is kept, and it needs 8 and 9
    const q = planReplication([local(9), local(8), local(7)], input(inv(copies, { chainIndex: { [name(9)]: 0, [name(8)]: 1, [name(7)]: 2 } }), { kind: 'ssh', policy: { last: 1 } }), NOW);
    expect(q.deletes.map((d) => d.name).sort()).toEqual([name(9), name(8)].sort()); // whole copies: no chain
  });
});

describe('file:// chains', () => {
  const entry = (h: number, parent: number | null, over: Partial<StreamEntry> = {}): StreamEntry => ({ name: name(h), sidecar: sidecar(h, parent), fileBytes: 100, checksumOk: null, ...over });

  test('intact chains, with their index and full', () => {
    const f = analyseChains([entry(3, null), entry(2, 3), entry(1, 2)]);
    expect(f.broken).toEqual([]);
    expect(f.intact.map((i) => [i.entry.name, i.index, i.full])).toEqual([
      [name(3), 0, name(3)],
      [name(2), 1, name(3)],
      [name(1), 2, name(3)],
    ]);
  });

  test('a missing, short or damaged stream breaks everything after it', () => {
    const f = analyseChains([entry(4, null), entry(3, 4, { fileBytes: null }), entry(2, 3), entry(1, 2, { checksumOk: false })]);
    expect(f.intact.map((i) => i.entry.name)).toEqual([name(4)]);
    expect(Object.fromEntries(f.broken.map((b) => [b.entry.name, b.why]))).toEqual({
      [name(3)]: `its stream ${name(3)}.btrfs.zst is missing`,
      [name(2)]: `the chain is broken at ${name(3)}: its stream ${name(3)}.btrfs.zst is missing`,
      [name(1)]: `its stream ${name(1)}.btrfs.zst does not match its checksum`,
    });
    expect(analyseChains([entry(2, 3)]).broken[0]!.why).toBe('the stream it follows (o3) is missing');
    expect(analyseChains([entry(2, null, { fileBytes: 99 })]).broken[0]!.why).toMatch(/is 99 bytes, not 100/);
  });

  test('closure over chains', () => {
    const parents: Record<string, string | null> = { c: 'b', b: 'a', a: null, z: null };
    expect([...closeOverChains(['c'], (o) => parents[o] ?? null)].sort()).toEqual(['a', 'b', 'c']);
    expect([...closeOverChains(['z'], (o) => parents[o] ?? null)]).toEqual(['z']);
  });
});
