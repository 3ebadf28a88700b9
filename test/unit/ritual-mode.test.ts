// Mode decisions of the Ritual, connection-failure classification, and the one-line summary.
import { describe, expect, test } from 'vitest';
import { decideMode, modeWithoutDatabase, parseMode } from '../../src/runtime/ritual/mode.js';
import { nobodyListens } from '../../src/runtime/ritual/server-state.js';
import { formatVersion, summarizeSnapshot } from '../../src/cli/commands/snapshot.js';
import { CryptError, RefusedError, UsageError } from '../../src/base/errors.js';
import { parseControldata } from '../../src/base/pg/controldata.js';
import type { PostgresConfig } from '../../src/model/config.js';
import type { SnapshotMeta } from '../../src/runtime/snapshots/meta.js';

const pg: PostgresConfig = {
  dir: 'postgres',
  osUser: 'postgres',
  uid: 100,
  gid: 100,
  connection: { host: '/run/postgresql', port: 5432, user: 'postgres', database: 'postgres' },
  bin: null,
  service: { kind: 'pg_ctl' },
};

describe('snapshot mode', () => {
  test('defaults: bracket while up, cold while down', () => {
    expect(decideMode(undefined, 'up', pg)).toBe('bracket');
    expect(decideMode(undefined, 'down', pg)).toBe('cold');
    expect(decideMode('checkpoint', 'up', pg)).toBe('checkpoint');
    expect(decideMode('instant', 'up', pg)).toBe('instant');
    expect(decideMode('none', 'down', pg)).toBe('none');
  });
  test('cold while running is refused (exit 3); online modes while down fail (exit 1)', () => {
    expect(() => decideMode('cold', 'up', pg)).toThrow(RefusedError);
    for (const m of ['bracket', 'checkpoint', 'instant'] as const) {
      let err: unknown;
      try {
        decideMode(m, 'down', pg);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CryptError);
      expect((err as CryptError).exitCode).toBe(1);
    }
  });
  test('without a database only none', () => {
    expect(modeWithoutDatabase(undefined)).toBe('none');
    expect(modeWithoutDatabase('none')).toBe('none');
    expect(() => modeWithoutDatabase('bracket')).toThrow(UsageError);
  });
  test('--mode values', () => {
    expect(parseMode(undefined)).toBeUndefined();
    expect(parseMode('cold')).toBe('cold');
    expect(parseMode('instant')).toBe('instant');
    expect(() => parseMode('hot')).toThrow(UsageError);
  });
});

describe('connection failures', () => {
  test('only "nobody listens" counts as down', () => {
    expect(nobodyListens(Object.assign(new Error('connect ENOENT /run/postgresql/.s.PGSQL.5432'), { code: 'ENOENT' }))).toBe(true);
    expect(nobodyListens(new CryptError('wrapped', { cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) }))).toBe(true);
    expect(nobodyListens(Object.assign(new Error('password authentication failed'), { code: '28P01' }))).toBe(false);
    expect(nobodyListens(new Error('Connection terminated due to connection timeout'))).toBe(false);
  });
});

describe('output', () => {
  test('versions', () => {
    expect(formatVersion(150018)).toBe('15.18');
    expect(formatVersion(180004)).toBe('18.4');
    expect(formatVersion(90624)).toBe('9.6.24');
    expect(formatVersion(null)).toBeNull();
  });
  test('one-line summary with phase timings', () => {
    const meta = {
      name: '20261123T205512Z-x',
      mode: 'bracket',
      postgres: { versionNum: 150018 },
      timings: { preflight: 1.5, checkpoint: 2, 'backup-start': 3, snapshot: 4, 'backup-stop': 5, metadata: 6, total: 21.5 },
    } as unknown as SnapshotMeta;
    expect(summarizeSnapshot(meta)).toBe(
      'snapshot 20261123T205512Z-x taken (bracket, PostgreSQL 15.18): preflight 1.5 ms, checkpoint 2 ms, backup-start 3 ms, snapshot 4 ms, backup-stop 5 ms, metadata 6 ms; total 21.5 ms',
    );
  });
  test('pg_controldata parsing', () => {
    const text = 'pg_control version number:            1300\nDatabase system identifier:           7441234567890123456\nDatabase cluster state:               shut down\n';
    expect(parseControldata(text)).toEqual({ systemIdentifier: '7441234567890123456', clusterState: 'shut down' });
  });
});

describe('metadata', async () => {
  const { buildMeta } = await import('../../src/runtime/ritual/metadata.js');
  const base = { name: 'n', label: null, createdAt: new Date('2026-11-23T20:55:12.345Z'), startLsn: null, stop: null, btrfs: { uuid: 'u', generation: 7 } };
  test('bracket: server facts and backup LSNs', () => {
    const facts = { versionNum: 150018, systemIdentifier: '744', dataDirectory: '/d', fullPageWrites: true, walLevel: 'replica', inRecovery: false, superuser: true, canCheckpoint: true, canBackup: true, tablespaces: [] };
    const m = buildMeta({ ...base, mode: 'bracket', hasDatabase: true, facts, startLsn: '0/2000028', stop: { lsn: '0/2000100', labelfile: 'START WAL LOCATION: 0/2000028' } });
    expect(m).toMatchObject({ format: 1, createdAt: '2026-11-23T20:55:12.345Z', origin: { kind: 'snapshot' }, btrfs: { uuid: 'u', generation: 7 } });
    expect(m.postgres).toEqual({ versionNum: 150018, systemIdentifier: '744', startLsn: '0/2000028', stopLsn: '0/2000100', labelfile: 'START WAL LOCATION: 0/2000028', major: 15 });
  });
  test('cold: control data; none: no postgres block', () => {
    const m = buildMeta({ ...base, mode: 'cold', hasDatabase: true, cold: { systemIdentifier: '744', clusterState: 'shut down', major: 14 } });
    expect(m.postgres).toEqual({ versionNum: null, systemIdentifier: '744', startLsn: null, stopLsn: null, labelfile: null, major: 14, clusterState: 'shut down' });
    expect(buildMeta({ ...base, mode: 'none', hasDatabase: true }).postgres).toBeNull();
    expect(buildMeta({ ...base, mode: 'none', hasDatabase: false }).postgres).toBeNull();
  });
});
