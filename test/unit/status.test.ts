// status (pure parts): usable free space on an image, the Nagios check, the Prometheus text.
import { describe, expect, test } from 'vitest';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { evaluateCheck } from '../../src/runtime/status/health.js';
import { renderPrometheus } from '../../src/runtime/status/prometheus.js';
import { floorBytes, usableFree, type SpaceFacts } from '../../src/runtime/status/space.js';
import type { StatusFacts } from '../../src/runtime/status/gather.js';
import { G, facts, now } from '../helpers/status-facts.js';

const check = (f: StatusFacts, maxAgeH = 2, minFree = { percent: 10 }) => evaluateCheck(f, { maxAgeMs: maxAgeH * 3_600_000, minFree }, now);

describe('space', () => {
  test('an image the host cannot back counts only what the host can hold', () => {
    expect(usableFree(10 * G, null)).toBe(10 * G);
    expect(usableFree(10 * G, { freeBytes: 50 * G, imageGrowthBytes: 12 * G })).toBe(10 * G);
    expect(usableFree(10 * G, { freeBytes: 4 * G, imageGrowthBytes: 12 * G })).toBe(2 * G);
    expect(usableFree(10 * G, { freeBytes: 0, imageGrowthBytes: 30 * G })).toBe(0);
    expect(floorBytes({ percent: 15 }, 20 * G)).toBe(3 * G);
    expect(floorBytes({ bytes: 123 }, 20 * G)).toBe(123);
  });
});

describe('status --check', () => {
  test('OK with perfdata', () => {
    const r = check(facts());
    expect(r.state).toBe(0);
    expect(r.line).toBe(`LYCHD-CRYPT OK - newest snapshot 30m old, 5 snapshots, 10G free | age=1800s;7200;14400;0 snapshots=5 free=${10 * G}B;${2 * G};${G};0;${20 * G}`);
  });
  test('stale: WARNING beyond max-age, CRITICAL beyond twice; no snapshot is CRITICAL', () => {
    const stale = (iso: string) => facts({ snapshots: { count: 1, pinned: 0, newest: { name: 'n', createdAt: iso } } });
    expect(check(stale('2026-11-30T09:30:00Z')).state).toBe(1);
    expect(check(stale('2026-11-30T09:30:00Z')).line).toMatch(/^LYCHD-CRYPT WARNING - newest snapshot older than 2h \(newest snapshot 150m old/);
    expect(check(stale('2026-11-30T07:00:00Z')).state).toBe(2);
    expect(check(facts({ snapshots: { count: 0, pinned: 0, newest: null } })).line).toMatch(/^LYCHD-CRYPT CRITICAL - no snapshot/);
  });
  test('full: WARNING below min-free, CRITICAL below half; the image host counts', () => {
    const free = (b: number, host: SpaceFacts['host'] = null) =>
      facts({ space: { sizeBytes: 20 * G, cryptFreeBytes: b, host, freeBytes: usableFree(b, host) } });
    expect(check(free(1.5 * G)).state).toBe(1);
    expect(check(free(0.5 * G)).state).toBe(2);
    expect(check(free(10 * G, { freeBytes: 0, imageGrowthBytes: 9.9 * G })).state).toBe(2);
    expect(evaluateCheck(free(3 * G), { maxAgeMs: 2 * 3_600_000, minFree: { bytes: 4 * G } }, now).state).toBe(1);
  });
  test('not mounted is CRITICAL; a failed verify is a WARNING', () => {
    expect(check(facts({ mounted: false, space: null, snapshots: null })).line).toBe('LYCHD-CRYPT CRITICAL - /srv/lychd is not mounted');
    const r = check(facts({ runs: { verify: { at: now.toISOString(), ok: false, summary: 'n: FAILED (amcheck)' } } }));
    expect(r.state).toBe(1);
    expect(r.line).toMatch(/last verify failed: n: FAILED \(amcheck\)/);
  });
});

describe('prometheus text', () => {
  test('a real text-format parser reads every metric; label values are escaped', () => {
    const text = renderPrometheus(
      facts({
        crypt: '/srv/we"ird\\path',
        floor: { minFree: { percent: 15 }, bytes: 3 * G },
        runs: { verify: { at: '2026-11-30T11:00:00.000Z', ok: true, durationMs: 4200, summary: 'n: restorable' }, scheduled: { at: '2026-11-30T11:30:05.000Z', ok: true, durationMs: 5000, summary: 'ok' } },
      }),
    );
    const families = Object.fromEntries(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
    const v = (name: string, labels: Record<string, string> = {}) => {
      const fam = families[name];
      expect(fam, name).toBeDefined();
      expect(fam!.type).toBe('GAUGE');
      const s = fam!.metrics.find((m) => Object.entries(labels).every(([k, x]) => m.labels?.[k] === x));
      expect(s!.labels!.crypt).toBe('/srv/we"ird\\path');
      return Number(s!.value);
    };
    expect(v('lychd_crypt_newest_snapshot_timestamp_seconds')).toBe(Date.parse('2026-11-30T11:30:00Z') / 1000);
    expect(v('lychd_crypt_snapshots')).toBe(5);
    expect(v('lychd_crypt_free_bytes')).toBe(10 * G);
    expect(v('lychd_crypt_min_free_bytes')).toBe(3 * G);
    expect(v('lychd_crypt_last_verify_success')).toBe(1);
    expect(v('lychd_crypt_last_run_duration_seconds', { kind: 'scheduled' })).toBe(5);
    expect(v('lychd_crypt_last_run_duration_seconds', { kind: 'verify' })).toBe(4.2);
    expect(v('lychd_crypt_mounted')).toBe(1);
  });

  test('a control character in a label value is shown as \\xNN: the file holds none', () => {
    const text = renderPrometheus(facts({ crypt: '/srv/\u001b]0;t\u0007\u202e\nx' }));
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
    const crypt = parsePrometheusTextFormat(text)[0]!.metrics[0]!.labels!.crypt;
    expect(crypt).toBe('/srv/\\x1b]0;t\\x07\\u202e\nx');
  });
});

describe('status screen', () => {
  test('one fact a line', async () => {
    const { renderStatus } = await import('../../src/runtime/status/render.js');
    const text = renderStatus(
      facts({
        floor: { minFree: { percent: 15 }, bytes: 3 * G },
        runs: { prune: { at: '2026-11-30T10:00:00.000Z', ok: true, summary: 'removed 2 of 9 snapshot(s)' } },
        timer: { unit: 'lychd-crypt-snapshot-srv-lychd.timer', calendar: 'hourly', nextRun: '2026-11-30T13:00:00.000Z' },
        verifyTimer: { unit: 'lychd-crypt-verify-srv-lychd.timer', calendar: 'daily', nextRun: null },
      }),
      now,
    );
    expect(text.split('\n')).toEqual([
      'crypt           /srv/lychd',
      'mounted         yes',
      'space           10G free of 20G (50%), floor 15%',
      'snapshots       5 (1 pinned)',
      'newest          n (30m ago, 2026-11-30 11:30:00Z)',
      'last verify     never',
      'last prune      ok 2h ago (2026-11-30 10:00:00Z): removed 2 of 9 snapshot(s)',
      'last scheduled  never',
      'postgresql      running',
      'timer           lychd-crypt-snapshot-srv-lychd.timer (hourly), next 2026-11-30 13:00:00Z',
      'verify timer    lychd-crypt-verify-srv-lychd.timer (daily), next unknown (systemd not running or timer not loaded)',
    ]);
  });
});
