// status (pure): the findings doctor also makes — read-only, forced read-only, an interrupted operation,
// leftovers, device errors, a temporary fsid — with their states and fixes; an operation in progress is a
// fact, not a problem; what a monitoring user may not see is named and not judged; the free-space estimate
// from sysfs.
import { describe, expect, test } from 'vitest';
import { evaluateCheck } from '../../src/runtime/status/health.js';
import { estimateFree } from '../../src/runtime/status/sysfs-space.js';
import type { StatusFacts } from '../../src/runtime/status/gather.js';
import { G, facts, now } from '../helpers/status-facts.js';

const check = (f: StatusFacts) => evaluateCheck(f, { maxAgeMs: 2 * 3_600_000, minFree: { percent: 10 } }, now);

describe('status findings', () => {
  test('healthy: OK, no finding', () => {
    expect(check(facts())).toMatchObject({ state: 0, findings: [] });
  });

  test('read-only and forced read-only are CRITICAL, each with its fix', () => {
    const ro = check(facts({ writable: 'ro' }));
    expect(ro.state).toBe(2);
    expect(ro.findings).toEqual([{ state: 2, what: 'the crypt is mounted read-only', fix: '`lychd-crypt repair` remounts it read-write' }]);
    const forced = check(facts({ writable: 'forced-ro' }));
    expect(forced.line).toMatch(/^LYCHD-CRYPT CRITICAL - Btrfs forced the crypt read-only after a write error \(newest snapshot 30m old/);
  });

  test('an operation in progress is a fact; an interrupted one a WARNING', () => {
    const running = check(facts({ operation: { state: 'running', op: 'rollback', phase: 'staged', pid: 42 } }));
    expect(running.state).toBe(0);
    expect(running.line).toMatch(/^LYCHD-CRYPT OK - a rollback is in progress \(pid 42\), newest snapshot/);
    const interrupted = check(facts({ operation: { state: 'interrupted', op: null, phase: null, pid: null } }));
    expect(interrupted.state).toBe(1);
    expect(interrupted.problems).toEqual(['an interrupted operation is pending']);
  });

  test('leftovers, device errors and a temporary fsid are WARNINGs', () => {
    expect(check(facts({ leftovers: { incomplete: ['a'], orphanMeta: ['b', 'c'], unreadableMeta: [] } })).problems).toEqual([
      'leftovers in snapshots/: 1 snapshot(s) without metadata, 2 metadata file(s) without their snapshot',
    ]);
    expect(check(facts({ deviceErrors: [{ device: 'devid 1', counters: { write_errs: 3 } }] })).problems).toEqual(['Btrfs counted device errors (devid 1: write_errs 3)']);
    const temp = check(facts({ identity: { kind: 'temp-fsid', detail: 'mounted under the temporary fsid x: /dev/loop9 is mounted at /mnt/copy' } }));
    expect(temp.state).toBe(1);
    expect(temp.findings![0]!.fix).toMatch(/mount.identity/);
  });

  test('not mounted names what is mounted there instead', () => {
    const r = check(facts({ mounted: false, space: null, snapshots: null, identity: { kind: 'other', detail: 'another filesystem (UUID u, from /dev/loop9) is mounted there, not the crypt (r)' } }));
    expect(r.line).toBe('LYCHD-CRYPT CRITICAL - /srv/lychd is not mounted: another filesystem (UUID u, from /dev/loop9) is mounted there, not the crypt (r)');
  });

  test('what a monitoring user may not see is named, not judged', () => {
    const r = check(facts({ snapshots: null, runs: {}, postgres: null, notVisible: ['snapshots', 'postgresql'] }));
    expect(r.state).toBe(0);
    expect(r.line).toMatch(/^LYCHD-CRYPT OK - 10G free, not visible to this user: snapshots, postgresql \| free=/);
    // Space estimated from sysfs still counts.
    const full = check(facts({ snapshots: null, notVisible: ['snapshots'], space: { sizeBytes: 20 * G, cryptFreeBytes: 0.5 * G, host: null, freeBytes: 0.5 * G, estimated: true } }));
    expect(full.state).toBe(2);
  });
});

describe('free space from sysfs', () => {
  test('unused data chunks plus unallocated space at the data ratio, less the global reserve', () => {
    const M = 2 ** 20;
    expect(estimateFree({ deviceBytes: 1024 * M, allocatedBytes: 300 * M, dataTotal: 200 * M, dataUsed: 150 * M, dataRatio: 1, globalReserve: 5 * M })).toEqual({ sizeBytes: 1024 * M, freeBytes: (50 + 724 - 5) * M });
    expect(estimateFree({ deviceBytes: 1024 * M, allocatedBytes: 424 * M, dataTotal: 200 * M, dataUsed: 200 * M, dataRatio: 2, globalReserve: 0 })).toEqual({ sizeBytes: 1024 * M, freeBytes: 300 * M });
    expect(estimateFree({ deviceBytes: 100 * M, allocatedBytes: 100 * M, dataTotal: 90 * M, dataUsed: 90 * M, dataRatio: 1, globalReserve: 16 * M }).freeBytes).toBe(0);
  });
});
