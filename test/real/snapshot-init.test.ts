// End to end with the real installer: init (loopback), initdb + start PostgreSQL 15 in the crypt's PGDATA,
// then the bundled runtime takes a snapshot, lists it, verifies it and deletes it.
import { describe, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PG_BIN, skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite, scratchSuite } from '../helpers/suite.js';
import { initCrypt } from '../helpers/doctor.js';
import { startTestServer } from '../helpers/pg.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');
const scratches = scratchSuite();
let scratch: Scratch | undefined;

describe.skipIf(skip)(`snapshot on an init-made crypt ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('init -> PostgreSQL -> snapshot, list, verify, delete with the bundled runtime', async () => {
    scratch = await scratches.scratch();
    const sock = scratch.path('pgsock');
    const c = await initCrypt(scratch, suite.bundle, {
      via: 'none',
      postgres: { connection: { host: sock, port: 5432 }, bin: PG_BIN[15], service: { kind: 'pg_ctl' } },
    });
    const pgdata = path.join(c.crypt, 'active/postgres');
    const server = await startTestServer(scratch, { version: 15, pgdata, socketDir: sock });
    await server.query('create table t as select generate_series(1, 100) as id');
    expect(existsSync(c.bin)).toBe(true);

    const snap = c.cli('--json', 'snapshot', '--label', 'first');
    expect(snap.code, snap.stderr).toBe(0);
    expect(snap.json.snapshot.mode).toBe('bracket');
    const name = snap.json.snapshot.name as string;
    const list = c.cli('--json', 'list');
    expect(list.json.snapshots.map((s: { name: string }) => s.name)).toEqual([name]);
    const verify = c.cli('--json', 'verify', name);
    expect(verify.code, verify.stderr + verify.stdout).toBe(0);
    const doctor = c.cli('--json', 'doctor');
    expect(doctor.code, doctor.stdout).toBe(0);
    const del = c.cli('--json', 'delete', name, '--yes');
    expect(del.code, del.stderr).toBe(0);
    expect(c.cli('--json', 'list').json.snapshots).toEqual([]);
  });
});
