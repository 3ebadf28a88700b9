// More preflight cases: a tablespace outside active/, a server serving another data directory, a fresh
// crypt whose PGDATA has no cluster yet, and the SIGKILL case on PostgreSQL 14's old backup API.
import { describe, expect, test } from 'vitest';
import { chown, mkdir, readFile, readdir } from 'node:fs/promises';
import { skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite, scratchSuite } from '../helpers/suite.js';
import { ids } from '../helpers/host.js';
import { makeCryptFixture, reconfigure, type CryptFixture } from '../helpers/crypt-fixture.js';
import { startTestServer } from '../helpers/pg.js';
import { cli, cliChild, cryptWithServer } from '../helpers/snap.js';
import type { Config } from '../../src/model/config.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15', 'pg14');
const scratches = scratchSuite();
let scratch: Scratch | undefined;

describe.skipIf(skip)(`snapshot preflight ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('a tablespace outside active/ is refused with the fix', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    const outside = scratch.path('ts-outside');
    await mkdir(outside);
    const pg = ids('postgres');
    await chown(outside, pg.uid, pg.gid);
    await server.query(`create tablespace away location '${outside}'`);
    const r = await cli(fx.root, ['snapshot']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/tablespace .* outside active\//);
    expect(r.stderr).toMatch(/fix: .*SET TABLESPACE pg_default/);
    expect(await readdir(fx.paths.snapshots)).toEqual([]);
  });

  test('the configured connection reaches a server of another data directory: refused', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    server.stop('fast');
    const other = await startTestServer(scratch, { version: 15, pgdata: scratch.path('other-pgdata'), socketDir: server.socketDir, port: server.port });
    const r = await cli(fx.root, ['snapshot']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`serves ${other.pgdata}, not the crypt's PGDATA`));
    expect(await readdir(fx.paths.snapshots)).toEqual([]);
  });

  test('a fresh crypt whose PGDATA holds no cluster yet: a plain snapshot with a warning', async () => {
    scratch = await scratches.scratch();
    const fx = await makeCryptFixture(scratch, { sizeMiB: 300 });
    const r = await cli(fx.root, ['--json', 'snapshot']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.snapshot.mode).toBe('none');
    expect(r.stderr).toMatch(/no PostgreSQL cluster yet/);
    expect((await cli(fx.root, ['snapshot', '--mode', 'cold'])).code).toBe(1);
  });
});

async function connectAs(fx: CryptFixture, user: string): Promise<void> {
  const config: Config = structuredClone(fx.config);
  config.postgres!.connection.user = user;
  await reconfigure(fx, config);
}

describe.skipIf(skip)(`a connection user that is not a superuser ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('PostgreSQL 15: without grants a clear error naming them; with them bracket works', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    await server.query('create role snap login');
    await connectAs(fx, 'snap');
    const r = await cli(fx.root, ['snapshot']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/may not start and stop a backup[\s\S]*GRANT EXECUTE ON FUNCTION pg_backup_start\(text, boolean\)/);
    const ck = await cli(fx.root, ['snapshot', '--mode', 'checkpoint']);
    expect(ck.stderr).toMatch(/GRANT pg_checkpoint TO/);
    await server.query('grant execute on function pg_backup_start(text, boolean) to snap');
    await server.query('grant execute on function pg_backup_stop(boolean) to snap');
    await server.query('grant pg_checkpoint to snap');
    const ok = await cli(fx.root, ['--json', 'snapshot']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json.snapshot.timings).toHaveProperty('checkpoint');
    expect(await readdir(fx.paths.snapshots)).toHaveLength(2);
    // verify checks as the clone's bootstrap superuser, so pg_amcheck works for this user too.
    const v = await cli(fx.root, ['--json', 'verify', ok.json.snapshot.name]);
    expect(v.code, v.stderr + v.stdout).toBe(0);
    expect(v.json.checks.find((c: { name: string }) => c.name === 'amcheck').ok).toBe(true);
  });

  test('PostgreSQL 14: backup grants suffice; the separate CHECKPOINT is skipped', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 14);
    await server.query('create role snap login');
    await server.query('grant execute on function pg_start_backup(text, boolean, boolean) to snap');
    await server.query('grant execute on function pg_stop_backup(boolean, boolean) to snap');
    await connectAs(fx, 'snap');
    const ok = await cli(fx.root, ['--json', 'snapshot']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json.snapshot.timings).not.toHaveProperty('checkpoint');
    expect(ok.json.snapshot.postgres.labelfile).toContain('START WAL LOCATION');
  });
});

describe.skipIf(skip)(`SIGKILL on PostgreSQL 14 ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('the old API: the server leaves backup mode when the tool dies', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 14);
    const killed = await cliChild(suite.bundle, fx.root, ['snapshot'], { LYCHD_CRYPT_FAULT: 'snapshot:after-backup-start' });
    expect(killed.signal).toBe('SIGKILL');
    const end = Date.now() + 15_000;
    while ((await server.query("select count(*)::int as n from pg_stat_activity where application_name like 'lychd-crypt%'"))[0]!.n > 0) {
      if (Date.now() > end) throw new Error('the killed session is still there');
      await new Promise((r) => setTimeout(r, 100));
    }
    const log = await readFile(scratch.path(`pg14-${server.port}.log`), 'utf8');
    expect(log).toMatch(/aborting backup due to backend exiting before pg_stop_backup was called/);
    const next = await cli(fx.root, ['--json', 'snapshot']);
    expect(next.code, next.stderr).toBe(0);
    expect(next.json.snapshot.postgres.labelfile).toContain('START WAL LOCATION');
    expect((await cli(fx.root, ['--json', 'list'])).json.snapshots).toHaveLength(1);
  });
});
