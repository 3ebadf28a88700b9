// doctor asks the crypt's running PostgreSQL for wal_init_zero and wal_recycle and PROPOSES turning them off
// (status advice, the exact ALTER SYSTEM lines); once they are off it reports ok; it never changes them.
import { describe, expect, test } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';
import { cli, cryptWithServer } from '../helpers/snap.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');
const scratches = scratchSuite();
let scratch: Scratch | undefined;

type Found = { id: string; status: string; finding: string; fix: { manual?: string } | null };

describe.skipIf(skip)(`doctor proposes PostgreSQL settings ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('advice while on, with the ALTER SYSTEM lines; ok once off; the settings are left alone', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    const settings = async () => Object.fromEntries((await server.query<{ name: string; setting: string }>("select name, setting from pg_settings where name in ('wal_init_zero', 'wal_recycle')")).map((r) => [r.name, r.setting]));

    const before = await cli(fx.root, ['--json', 'doctor']);
    const advice = (before.json.checks as Found[]).find((c) => c.id === 'pgdata.settings');
    expect(advice, before.stdout).toBeDefined();
    expect(advice!.status).toBe('advice');
    expect(advice!.fix!.manual).toContain('ALTER SYSTEM SET wal_init_zero = off; ALTER SYSTEM SET wal_recycle = off; SELECT pg_reload_conf();');
    expect(await settings()).toEqual({ wal_init_zero: 'on', wal_recycle: 'on' }); // proposed, not imposed

    await server.query('alter system set wal_init_zero = off');
    await server.query('alter system set wal_recycle = off');
    await server.query('select pg_reload_conf()');
    await new Promise((r) => setTimeout(r, 300));
    const after = await cli(fx.root, ['--json', 'doctor']);
    const okNow = (after.json.checks as Found[]).find((c) => c.id === 'pgdata.settings');
    expect(okNow?.status, after.stdout).toBe('ok');
    expect(okNow!.finding).toMatch(/wal_init_zero = off, wal_recycle = off|wal_recycle = off, wal_init_zero = off/);
  }, 120_000);
});
