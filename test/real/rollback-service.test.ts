// rollback with `postgres.service: command`: real stop/start scripts (pg_ctl as postgres) are run
// exactly once each, around the swap, and the server comes back on the rolled-back data.
import { describe, expect, test } from 'vitest';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PG_BIN, skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite, scratchSuite } from '../helpers/suite.js';
import { ids } from '../helpers/host.js';
import { cliChild, cryptWithServer } from '../helpers/snap.js';
import { reconfigure } from '../helpers/crypt-fixture.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');
const scratches = scratchSuite();
let scratch: Scratch | undefined;

describe.skipIf(skip)(`rollback through a service command ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('command kind: the stop and start scripts run once each; data rolled back; server up, not in recovery', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    const u = ids('postgres');
    const calls = scratch.path('service-calls.txt');
    const log = scratch.path('db-by-script.log');
    await writeFile(calls, '');
    await writeFile(log, '');
    await chmod(log, 0o666);
    const ctl = `setpriv --reuid=${u.uid} --regid=${u.gid} --clear-groups -- ${path.join(PG_BIN[15], 'pg_ctl')} -D ${fx.pgdata}`;
    const stop = scratch.path('db-stop.sh');
    const start = scratch.path('db-start.sh');
    await writeFile(stop, `#!/bin/sh\nset -e\necho stop >> ${calls}\nexec ${ctl} -m fast -w stop\n`, { mode: 0o755 });
    await writeFile(start, `#!/bin/sh\nset -e\necho start >> ${calls}\nexec ${ctl} -l ${log} -w start\n`, { mode: 0o755 });
    await reconfigure(fx, { ...fx.config, postgres: { ...fx.config.postgres!, service: { kind: 'command', stop: [stop], start: [start] } } });

    await server.query('create table t (v text)');
    await server.query("insert into t values ('A')");
    const snap = await cliChild(suite.bundle, fx.root, ['--json', 'snapshot']);
    expect(snap.code, snap.stderr).toBe(0);
    await server.query("insert into t values ('B')");
    const pidBefore = (await readFile(path.join(fx.pgdata, 'postmaster.pid'), 'utf8')).split('\n')[0];

    const rb = await cliChild(suite.bundle, fx.root, ['--json', 'rollback', snap.json.snapshot.name, '--yes']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.json.databaseRestarted).toBe(true);
    expect((await readFile(calls, 'utf8')).trim().split('\n')).toEqual(['stop', 'start']);
    const pidAfter = (await readFile(path.join(fx.pgdata, 'postmaster.pid'), 'utf8')).split('\n')[0];
    expect(pidAfter).not.toBe(pidBefore);
    expect((await server.query('select v from t')).map((r) => r.v)).toEqual(['A']);
    expect((await server.query('select pg_is_in_recovery() as r'))[0]!.r).toBe(false);
  }, 180_000);

  test('pg_ctl kind: the server log of the restart lands beside active/, owned by postgres', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    await server.query('create table t (v text)');
    const snap = await cliChild(suite.bundle, fx.root, ['--json', 'snapshot']);
    expect(snap.code, snap.stderr).toBe(0);
    const rb = await cliChild(suite.bundle, fx.root, ['--json', 'rollback', snap.json.snapshot.name, '--yes']);
    expect(rb.code, rb.stderr).toBe(0);
    const logText = await readFile(path.join(fx.paths.pgLog, 'pg_ctl.log'), 'utf8');
    expect(logText).toMatch(/database system is ready to accept connections/);
    const { stat } = await import('node:fs/promises');
    expect((await stat(fx.paths.pgLog)).uid).toBe(ids('postgres').uid);
    expect(server.isRunning()).toBe(true);
  }, 180_000);
});
