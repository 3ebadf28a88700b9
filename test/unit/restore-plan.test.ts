// What a restore receives (pure): one copy from a Btrfs target (full, or against a snapshot the crypt
// holds), a file:// chain from its full (less what the crypt holds); refusals; and the owners a restore on
// another host maps (a rootless crypt's are refused, never changed).
import { describe, expect, test } from 'vitest';
import { planRestore } from '../../src/runtime/restore/plan.js';
import { mapArgv, ownerMap } from '../../src/runtime/restore/ids.js';
import type { Copy, Inventory } from '../../src/runtime/replicate/stream/target.js';
import type { Config } from '../../src/model/config.js';
import { RefusedError, UsageError } from '../../src/base/errors.js';

const copy = (n: number, parent: number | null = null): Copy => ({
  name: `2026120${n}T000000Z`,
  originUuid: `o${n}`,
  parentOriginUuid: parent === null ? null : `o${parent}`,
  createdAt: `2026-12-0${n}T00:00:00.000Z`,
  pinned: false,
  preRollback: false,
  bytes: 10,
  sidecar: {} as Copy['sidecar'],
});
const inv = (copies: Copy[]): Inventory => ({ copies, broken: [], chainIndex: {}, cleaned: [], freeBytes: null });
const steps = (p: ReturnType<typeof planRestore>) => p.steps.map((s) => `${s.copy.name}${s.parent ? ` <- ${s.parent.name}` : ''}`);

describe('planRestore', () => {
  test('a Btrfs target: the latest or a name; full, or against what the crypt holds', () => {
    const i = inv([copy(1), copy(2, 1), copy(3, 2)]);
    expect(steps(planRestore(i, 'ssh', [], 'latest', 't'))).toEqual(['20261203T000000Z']);
    expect(steps(planRestore(i, 'path', [], '20261202T000000Z', 't'))).toEqual(['20261202T000000Z']);
    expect(steps(planRestore(i, 'ssh', [{ name: '20261201T000000Z', originUuid: 'o1' }], 'latest', 't'))).toEqual(['20261203T000000Z <- 20261201T000000Z']);
    expect(planRestore(i, 'ssh', [{ name: '20261203T000000Z', originUuid: 'o3' }], 'latest', 't')).toMatchObject({ alreadyHere: true, steps: [] });
  });

  test('file://: the chain from its full, or from what the crypt holds', () => {
    const i = inv([copy(1), copy(2, 1), copy(3, 2), copy(4)]);
    expect(steps(planRestore(i, 'file', [], '20261203T000000Z', 't'))).toEqual(['20261201T000000Z', '20261202T000000Z <- 20261201T000000Z', '20261203T000000Z <- 20261202T000000Z']);
    expect(steps(planRestore(i, 'file', [{ name: '20261202T000000Z', originUuid: 'o2' }], '20261203T000000Z', 't'))).toEqual(['20261203T000000Z <- 20261202T000000Z']);
    expect(steps(planRestore(i, 'file', [], 'latest', 't'))).toEqual(['20261204T000000Z']);
  });

  test('refusals', () => {
    expect(() => planRestore(inv([]), 'ssh', [], 'latest', 't')).toThrow(UsageError);
    expect(() => planRestore(inv([copy(1)]), 'ssh', [], '20261109T000000Z', 't')).toThrow(/holds no copy named 20261109T000000Z/);
    // The crypt has a snapshot of that name that is another snapshot: never replaced.
    expect(() => planRestore(inv([copy(1)]), 'ssh', [{ name: '20261201T000000Z', originUuid: 'x' }], 'latest', 't')).toThrow(RefusedError);
  });
});

const config = (profile: 'system' | 'rootless', pg: { uid: number; gid: number } | null): Config =>
  ({ profile, crypt: { name: 'c', path: '/c', user: 'lychd', uid: 1000, gid: 1000, home: '/home/lychd' }, postgres: pg ? { osUser: 'postgres', ...pg } : null }) as unknown as Config;
const ids = (owner: [number, number], pg: [number, number] | null) => ({ owner: { user: 'lychd', uid: owner[0], gid: owner[1] }, postgres: pg ? { user: 'postgres', uid: pg[0], gid: pg[1] } : null });

describe('owners on another host', () => {
  test('a system crypt: the pairs that differ, mapped with chown --from', () => {
    expect(ownerMap(ids([1000, 1000], [108, 114]), config('system', { uid: 108, gid: 114 }))).toEqual({ uids: [], gids: [] });
    const m = ownerMap(ids([1000, 1000], [108, 114]), config('system', { uid: 112, gid: 118 }));
    expect(m).toEqual({ uids: [[108, 112]], gids: [[114, 118]] });
    expect(mapArgv('/s', m, true)).toEqual([
      ['chown', '-R', '-h', '--from=108', '112', '--', '/s'],
      ['chown', '-R', '-h', '--from=:114', ':118', '--', '/s'],
    ]);
    // A chain (108→112 while 112→…) is refused rather than applied in some order.
    expect(() => ownerMap(ids([112, 1000], [108, 114]), config('system', { uid: 112, gid: 114 }))).toThrow(/would chain/);
  });

  test('a rootless crypt: differing ids are refused with what to align', () => {
    expect(ownerMap(ids([1000, 1000], [1000, 1000]), config('rootless', { uid: 1000, gid: 1000 }))).toEqual({ uids: [], gids: [] });
    let e: RefusedError | undefined;
    try {
      ownerMap(ids([1001, 1001], [1001, 1001]), config('rootless', { uid: 1000, gid: 1000 }));
    } catch (x) {
      e = x as RefusedError;
    }
    expect(e).toBeInstanceOf(RefusedError);
    expect(e!.message).toMatch(/a rootless crypt's ids are not root's to change; nothing was changed/);
    expect(e!.hint).toMatch(/usermod -u 1001 lychd/);
  });
});
