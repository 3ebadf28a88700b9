// verify's pure parts: the settings forced on the clone server, and the text report.
import { describe, expect, test } from 'vitest';
import { cloneSettings } from '../../src/runtime/verify/clone-server.js';
import { renderVerify } from '../../src/cli/commands/verify.js';

describe('cloneSettings', () => {
  const s = cloneSettings('/tmp/lychd-verify-x', 5432, '/tmp/lychd-verify-x/pg_hba.conf', '/c/.staging-verify-1/postgres', 15);

  test('no TCP, private socket, no archiving, own hba/ident, the clone as data_directory', () => {
    expect(s).toEqual(
      expect.arrayContaining([
        "listen_addresses=''",
        "unix_socket_directories='/tmp/lychd-verify-x'",
        'archive_mode=off',
        "archive_command=''",
        "hba_file='/tmp/lychd-verify-x/pg_hba.conf'",
        "ident_file='/tmp/lychd-verify-x/pg_ident.conf'",
        "data_directory='/c/.staging-verify-1/postgres'",
        "external_pid_file='/tmp/lychd-verify-x/postmaster.external.pid'",
        'port=5432',
      ]),
    );
  });

  test('stats_temp_directory only up to PostgreSQL 14 (removed in 15, an error there)', () => {
    expect(s.some((x) => x.startsWith('stats_temp_directory'))).toBe(false);
    const s14 = cloneSettings('/t', 5432, '/t/pg_hba.conf', '/p', 14);
    expect(s14).toContain("stats_temp_directory='pg_stat_tmp'");
  });
});

describe('renderVerify', () => {
  test('one line verdict with timings, then one line per check (skip / ok / FAIL)', () => {
    const text = renderVerify({
      name: '20261123T205512Z-x',
      ok: false,
      checks: [
        { name: 'start', ok: true, detail: 'started' },
        { name: 'amcheck', ok: false, detail: 'pg_amcheck reported problems:\nheap table "t", block 2' },
        { name: 'config', ok: null, detail: 'defaults' },
      ],
      timings: { clone: 9.6, recovery: 120 },
    });
    expect(text).toBe(
      [
        'verify 20261123T205512Z-x: FAILED (clone 9.6 ms, recovery 120 ms)',
        '  ok    start: started',
        '  FAIL  amcheck: pg_amcheck reported problems:',
        '        heap table "t", block 2',
        '  skip  config: defaults',
      ].join('\n'),
    );
  });

  test('a passing report says restorable', () => {
    expect(renderVerify({ name: 'n', ok: true, checks: [], timings: {} })).toBe('verify n: restorable\n');
  });
});
