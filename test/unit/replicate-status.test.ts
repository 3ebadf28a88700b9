// Replication in status --check (pure): the lag alarm by --max-replica-age, a failed run, a broken chain,
// and its performance data; not judged without the flag.
import { describe, expect, test } from 'vitest';
import { checkReplication, replicaMetrics, replicaRows, type ReplicaFacts } from '../../src/runtime/replicate/status.js';

const NOW = new Date('2026-12-07T12:00:00Z');
const ago = (h: number) => new Date(NOW.getTime() - h * 3_600_000).toISOString();
const facts = (over: Partial<ReplicaFacts> = {}): ReplicaFacts => ({
  target: 'offsite',
  kind: 'ssh',
  url: 'ssh://root@b/x',
  newest: { name: 'n', createdAt: ago(3) },
  copies: 4,
  lastRun: { at: ago(1), ok: true, summary: 'sent 1', bytes: 100, durationMs: 2000 },
  chain: null,
  ...over,
});

describe('replication in status --check', () => {
  test('lag: OK within, WARNING beyond, CRITICAL beyond twice or without a copy; perf data', () => {
    expect(checkReplication([facts()], 4 * 3_600_000, NOW)).toMatchObject({ problems: [], perf: ['replica_age_offsite=10800s;14400;28800;0'] });
    expect(checkReplication([facts()], 2 * 3_600_000, NOW).problems).toEqual([{ state: 1, message: 'target offsite: newest copy older than 2h' }]);
    expect(checkReplication([facts()], 3_600_000, NOW).problems).toEqual([{ state: 2, message: 'target offsite: newest copy older than 2h' }]);
    expect(checkReplication([facts({ newest: null })], 3_600_000, NOW).problems).toEqual([{ state: 2, message: 'target offsite holds no copy' }]);
    expect(checkReplication([facts()], null, NOW)).toEqual({ problems: [], facts: [], perf: [] });
  });

  test('a failed run and a broken chain warn', () => {
    const p = checkReplication([facts({ lastRun: { at: ago(1), ok: false, summary: 'ssh failed', bytes: 0, durationMs: 1 }, chain: { intact: false, sinceFull: 2, broken: ['x'] } })], 24 * 3_600_000, NOW).problems;
    expect(p).toEqual([
      { state: 1, message: 'last replication to offsite failed: ssh failed' },
      { state: 1, message: 'target offsite: chain broken (x); the next run re-bases on a new full' },
    ]);
  });

  test('Prometheus rows and status rows', () => {
    const m = replicaMetrics([facts(), facts({ target: 'bucket', kind: 'file', chain: { intact: true, sinceFull: 3, broken: [] }, lastRun: null })]);
    const by = Object.fromEntries(m.map((x) => [x.name, x.samples.map((s) => `${s.labels.target}=${s.value}`)]));
    expect(by.lychd_crypt_replica_copies).toEqual(['offsite=4', 'bucket=4']);
    expect(by.lychd_crypt_replica_last_run_success).toEqual(['offsite=1']);
    expect(by.lychd_crypt_replica_incrementals_since_full).toEqual(['bucket=3']);
    expect(replicaRows([facts()], NOW)).toEqual([['replica offsite', 'ssh://root@b/x  newest n (3h ago), 4 copies, last run ok 1h ago (100)']]);
  });
});
