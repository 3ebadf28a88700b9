// A guarded schema migration under pgbench load that fails halfway: `run` rolls the crypt back and the
// database is exactly as before it — same schema (pg_dump --schema-only), pgbench's balances consistent
// (every account, teller and branch balance sums to the history's deltas), the half migration gone.
import { describe, expect, test } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { PG_BIN, skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite, scratchSuite } from '../helpers/suite.js';
import { cliChild, cryptWithServer } from '../helpers/snap.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15', 'pgbench');
const scratches = scratchSuite();
let scratch: Scratch | undefined;

describe.skipIf(skip)(`run: a failed migration under load ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('fails halfway under pgbench: rolled back, schema and balances exactly as before', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    const conn = ['-h', server.socketDir, '-p', String(server.port), '-U', 'postgres'];
    execFileSync(path.join(PG_BIN[15], 'pgbench'), ['-i', '-s', '2', '-q', ...conn, 'postgres'], { stdio: 'ignore' });
    // (pg_dump's \restrict key is random on each run.)
    const schema = () =>
      execFileSync(path.join(PG_BIN[15], 'pg_dump'), ['--schema-only', ...conn, 'postgres'], { encoding: 'utf8' }).replace(/^\\(un)?restrict .*$/gm, '');
    const schemaBefore = schema();

    const bench = spawn(path.join(PG_BIN[15], 'pgbench'), ['-c', '4', '-j', '2', '-T', '600', '--no-vacuum', ...conn, 'postgres'], { stdio: 'ignore' });
    const benchDone = new Promise((resolve) => bench.on('close', resolve));
    scratch.defer(async () => {
      bench.kill('SIGKILL');
      await benchDone;
    });
    await new Promise((r) => setTimeout(r, 1000));

    // The migration: two steps commit, the third fails (psql runs each -c in its own transaction).
    const psql = [path.join(PG_BIN[15], 'psql'), '-X', '-q', '-v', 'ON_ERROR_STOP=1', ...conn, '-d', 'postgres'];
    const half = scratch.path('half.txt');
    const migration = [
      ...psql, '-t', '-A',
      '-c', 'alter table pgbench_accounts add column note text',
      '-c', 'create table audit (id bigint)',
      '-c', `\\o ${half}`,
      '-c', "select count(*) from information_schema.tables where table_name = 'audit'",
      '-c', 'select 1/0',
    ];
    const r = await cliChild(suite.bundle, fx.root, ['--json', 'run', '--label', 'migration', '--', ...migration]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.json).toMatchObject({ ok: false, rolledBack: true, failure: { kind: 'command', exitCode: 1 } });
    bench.kill('SIGKILL');
    await benchDone;

    // The first steps did commit before the failure…
    expect((await readFile(half, 'utf8')).trim()).toBe('1');
    expect(server.isRunning()).toBe(true);
    expect((await server.query('select pg_is_in_recovery() as r'))[0]!.r).toBe(false);
    expect(schema()).toBe(schemaBefore);
    const [sums] = await server.query(
      `select (select sum(abalance) from pgbench_accounts)::bigint as a, (select sum(bbalance) from pgbench_branches)::bigint as b,
              (select sum(tbalance) from pgbench_tellers)::bigint as t, (select coalesce(sum(delta), 0) from pgbench_history)::bigint as h,
              (select count(*) from pgbench_history)::int as n`,
    );
    expect(sums!.n).toBeGreaterThan(0); // the snapshot was taken under load
    expect([sums!.a, sums!.b, sums!.t]).toEqual([sums!.h, sums!.h, sums!.h]);
    // The failed state is kept: its clone has the half migration.
    expect(r.json.preRollback).toMatch(/-pre-rollback$/);
  }, 300_000);
});
