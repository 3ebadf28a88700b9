// The snapshot-name resolver every command uses: full name, unique prefix, unique label, latest/previous;
// unknown and ambiguous names in one wording, with the closest candidates.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/base/errors.js';
import { closest, editDistance } from '../../src/base/output/did-you-mean.js';
import { describeFailure, requireResolved, resolveSnapshotName, type NamedSnapshot, type Resolution } from '../../src/runtime/snapshots/resolve.js';

const snaps: NamedSnapshot[] = [
  { name: '20261120T080000Z-nightly', label: 'nightly', createdAt: '2026-11-20T08:00:00Z' },
  { name: '20261121T080000Z-nightly', label: 'nightly', createdAt: '2026-11-21T08:00:00Z' },
  { name: '20261122T093000Z-pre-upgrade', label: 'pre upgrade', createdAt: '2026-11-22T09:30:00Z' },
  { name: '20261123T101500Z', label: null, createdAt: '2026-11-23T10:15:00Z' },
];
const resolve = (input: string, exact: string[] = []): Resolution => resolveSnapshotName(input, snaps, exact);
const fail = (input: string): string => {
  const r = resolve(input);
  if (r.ok) throw new Error(`expected ${input} not to resolve`);
  return describeFailure(r);
};

describe('resolveSnapshotName', () => {
  it('a full name is itself, before any other rule', () => {
    expect(resolve('20261123T101500Z')).toEqual({ ok: true, input: '20261123T101500Z', name: '20261123T101500Z', via: 'name' });
  });

  it('latest and previous: the newest and the one before it, by time', () => {
    expect(resolve('latest')).toMatchObject({ ok: true, name: '20261123T101500Z', via: 'latest' });
    expect(resolve('previous')).toMatchObject({ ok: true, name: '20261122T093000Z-pre-upgrade', via: 'previous' });
    expect(describeFailure(resolveSnapshotName('previous', [snaps[0]!]) as Extract<Resolution, { ok: false }>)).toBe('no such snapshot: previous (there is only one snapshot)');
    expect(describeFailure(resolveSnapshotName('latest', []) as Extract<Resolution, { ok: false }>)).toBe('no such snapshot: latest (there are no snapshots)');
  });

  it('a label names its snapshot when no other has it', () => {
    expect(resolve('pre upgrade')).toMatchObject({ ok: true, name: '20261122T093000Z-pre-upgrade', via: 'label' });
    expect(fail('nightly')).toBe('"nightly" matches 2 snapshots: 20261121T080000Z-nightly, 20261120T080000Z-nightly; give more of the name');
  });

  it('a unique prefix names its snapshot; an ambiguous one lists the candidates, newest first', () => {
    expect(resolve('20261122')).toMatchObject({ ok: true, name: '20261122T093000Z-pre-upgrade', via: 'prefix' });
    expect(resolve('20261121T')).toMatchObject({ ok: true, name: '20261121T080000Z-nightly' });
    expect(fail('202611')).toBe(
      '"202611" matches 4 snapshots: 20261123T101500Z, 20261122T093000Z-pre-upgrade, 20261121T080000Z-nightly, 20261120T080000Z-nightly; give more of the name',
    );
  });

  it('unknown: did you mean the closest names, labels or slugs', () => {
    expect(fail('20261123T101600Z')).toBe('no such snapshot: 20261123T101600Z; did you mean 20261123T101500Z?');
    expect(fail('pre-upgarde')).toBe('no such snapshot: pre-upgarde; did you mean 20261122T093000Z-pre-upgrade?');
    expect(fail('upgrade')).toBe('no such snapshot: upgrade; did you mean 20261122T093000Z-pre-upgrade?');
    expect(fail('zzz')).toBe('no such snapshot: zzz');
    expect(fail('')).toBe('no such snapshot: ');
  });

  it('exact-only names (an incomplete snapshot) resolve in full, never by prefix', () => {
    expect(resolve('20200101T000000Z-half', ['20200101T000000Z-half'])).toMatchObject({ ok: true, via: 'name' });
    expect(resolve('20200101', ['20200101T000000Z-half']).ok).toBe(false);
  });

  it('requireResolved: names in order, once; every failure in one UsageError that says nothing changed', () => {
    expect(requireResolved([resolve('latest'), resolve('20261123'), resolve('pre upgrade')])).toEqual(['20261123T101500Z', '20261122T093000Z-pre-upgrade']);
    let err: unknown;
    try {
      requireResolved([resolve('latest'), resolve('nope'), resolve('nightly')]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toBe(
      'no such snapshot: nope\n"nightly" matches 2 snapshots: 20261121T080000Z-nightly, 20261120T080000Z-nightly; give more of the name',
    );
    expect((err as UsageError).hint).toMatch(/^Nothing was changed\. Name a snapshot by its full name, a unique prefix, its label, latest or previous/);
  });
});

describe('did you mean', () => {
  it('edit distance counts a swap once', () => {
    expect(editDistance('methd', 'method')).toBe(1);
    expect(editDistance('paht', 'path')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });
  it('closest: within a third of the word, nearest first, never the word itself', () => {
    expect(closest('sise', ['size', 'image'])).toEqual(['size']);
    expect(closest('fstb', ['via', 'fstab', 'unitDir'])).toEqual(['fstab']);
    expect(closest('foo', ['version', 'method'])).toEqual([]);
    expect(closest('size', ['size'])).toEqual([]);
  });
});

describe('the slug list shows (issue 24)', () => {
  // After `label` gives a snapshot another label, its name keeps the old slug: typing that slug must still work.
  const relabelled: NamedSnapshot[] = [
    { name: '20261123T205512Z-schema-v4', label: 'before the v4 migration', createdAt: '2026-11-23T20:55:12Z' },
    { name: '20261124T080000Z-schema-v4-2', label: null, createdAt: '2026-11-24T08:00:00Z' },
    { name: '20261125T080000Z-nightly', label: 'nightly', createdAt: '2026-11-25T08:00:00Z' },
  ];
  it('the part of the name after its time resolves when unique, also after a relabel', () => {
    expect(resolveSnapshotName('schema-v4', relabelled)).toMatchObject({ ok: true, name: '20261123T205512Z-schema-v4', via: 'suffix' });
    expect(resolveSnapshotName('schema-v4-2', relabelled)).toMatchObject({ ok: true, name: '20261124T080000Z-schema-v4-2' });
    // A label still comes first; a cut word is no slug.
    expect(resolveSnapshotName('nightly', relabelled)).toMatchObject({ ok: true, via: 'label' });
    expect(resolveSnapshotName('ema-v4', relabelled).ok).toBe(false);
  });
  it('two snapshots with the same slug: ambiguous, both named', () => {
    const twice = [...relabelled, { name: '20261126T080000Z-schema-v4', label: null, createdAt: '2026-11-26T08:00:00Z' }];
    const r = resolveSnapshotName('schema-v4', twice);
    expect(r).toMatchObject({ ok: false, problem: 'ambiguous', candidates: ['20261126T080000Z-schema-v4', '20261123T205512Z-schema-v4'] });
  });
});
