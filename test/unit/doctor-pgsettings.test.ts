// doctor's PostgreSQL proposal for a no-CoW PGDATA on Btrfs: what it proposes, and that advice never makes
// a crypt unhealthy nor becomes a repair step.
import { describe, expect, test } from 'vitest';
import { proposeSettings } from '../../src/care/check-pgsettings.js';
import { advice, ok } from '../../src/care/findings.js';
import { doctorHuman, doctorJson } from '../../src/care/render-doctor.js';
import { summarize } from '../../src/care/doctor.js';

describe('pgdata.settings proposal', () => {
  test('both on: both ALTER SYSTEM lines and a reload', () => {
    const p = proposeSettings({ wal_init_zero: 'on', wal_recycle: 'on' })!;
    expect(p.lines).toEqual(['ALTER SYSTEM SET wal_init_zero = off;', 'ALTER SYSTEM SET wal_recycle = off;', 'SELECT pg_reload_conf();']);
    expect(p.finding).toMatch(/wal_init_zero = on, wal_recycle = on/);
    expect(p.finding).toMatch(/proposed, not required/);
  });
  test('only what differs; nothing when already off or unknown (PostgreSQL 10, 11)', () => {
    expect(proposeSettings({ wal_init_zero: 'off', wal_recycle: 'on' })!.lines).toEqual(['ALTER SYSTEM SET wal_recycle = off;', 'SELECT pg_reload_conf();']);
    expect(proposeSettings({ wal_init_zero: 'off', wal_recycle: 'off' })).toBeNull();
    expect(proposeSettings({})).toBeNull();
  });
  test('advice is shown as a proposal and keeps the crypt healthy', () => {
    const checks = [ok('pgdata.exists', 'PGDATA exists'), advice('pgdata.settings', 'PostgreSQL runs with wal_recycle = on', 'ALTER SYSTEM SET wal_recycle = off;')];
    expect(summarize(checks)).toEqual({ healthy: true, problems: 0, cannotCheck: 0 });
    const human = doctorHuman('/srv/crypt', checks);
    expect(human).toMatch(/\[ i \] PostgreSQL runs with wal_recycle = on {2}\(pgdata.settings\)/);
    expect(human).toMatch(/proposal: ALTER SYSTEM SET wal_recycle = off;/);
    expect(human).toMatch(/\nhealthy$/);
    expect(JSON.stringify(doctorJson('/srv/crypt', checks))).toMatch(/"status":"advice"/);
  });
});
