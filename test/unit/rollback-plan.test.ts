// The pure parts of rollback: the steps --dry-run prints, and when a snapshot's cluster is foreign.
import { describe, expect, test } from 'vitest';
import type { Config } from '../../src/model/config.js';
import { describeRollbackSteps } from '../../src/runtime/rollback/steps.js';
import { compatibilityProblems } from '../../src/runtime/rollback/target.js';
import type { SnapshotMeta } from '../../src/runtime/snapshots/meta.js';

const config = {
  crypt: { name: 'alice', path: '/c', user: 'alice', uid: 1000, gid: 1000, home: '/home/alice' },
  profile: 'system',
  registry: { dir: '/etc/lychd-crypt', state: '/var/lib/lychd-crypt' },
  postgres: { service: { kind: 'pg_ctl' } },
} as unknown as Config;

describe('describeRollbackSteps', () => {
  const base = { target: 'S1', preRollbackName: 'P1-pre-rollback', staging: '/c/.staging-rollback-x', active: '/c/active' };
  test('with a running database: stop first, start and check last', () => {
    const steps = describeRollbackSteps(config, { ...base, dbRunning: true });
    expect(steps[0]).toMatch(/journal/);
    expect(steps[1]).toMatch(/stop PostgreSQL through postgres.service \(pg_ctl\)/);
    expect(steps.findIndex((s) => /RENAME_EXCHANGE/.test(s))).toBeGreaterThan(1);
    expect(steps.at(-2)).toMatch(/pg_is_in_recovery\(\) is false/);
    expect(steps.at(-1)).toBe('clear the journal');
    expect(steps.join('\n')).toMatch(/snapshots\/P1-pre-rollback/);
  });
  test('with the database stopped: neither stop nor start', () => {
    const steps = describeRollbackSteps(config, { ...base, dbRunning: false });
    expect(steps.join('\n')).not.toMatch(/stop PostgreSQL|start PostgreSQL/);
  });
});

describe('compatibilityProblems', () => {
  const meta = (postgres: Partial<NonNullable<SnapshotMeta['postgres']>> | null) =>
    ({ postgres: postgres && { versionNum: null, major: null, systemIdentifier: null, ...postgres } }) as SnapshotMeta;
  test('same cluster: none', () => {
    expect(compatibilityProblems(meta({ major: 15, systemIdentifier: '1' }), { major: 15, systemIdentifier: '1' })).toEqual([]);
  });
  test('another major version (also from versionNum) and another system identifier', () => {
    expect(compatibilityProblems(meta({ versionNum: 140011, systemIdentifier: '2' }), { major: 15, systemIdentifier: '1' })).toEqual([
      'the snapshot holds a PostgreSQL 14 cluster, the live one is PostgreSQL 15',
      "the snapshot's cluster (system identifier 2) is not the live one (1)",
    ]);
  });
  test('nothing to compare (no database in the snapshot or no live cluster): none', () => {
    expect(compatibilityProblems(meta(null), { major: 15, systemIdentifier: '1' })).toEqual([]);
    expect(compatibilityProblems(meta({ major: 14 }), null)).toEqual([]);
  });
});
