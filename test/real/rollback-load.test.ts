// rollback to a snapshot taken under pgbench load: the server comes back through crash recovery to
// the snapshot instant, out of recovery, with intact tables and indexes (pg_amcheck clean).
import { describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { PG_BIN, skipReason } from '../helpers/env.js';
import { runPgbench } from '../helpers/pg.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite, scratchSuite } from '../helpers/suite.js';
import { cliChild, cryptWithServer } from '../helpers/snap.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15', 'pgbench');
const scratches = scratchSuite();
let scratch: Scratch | undefined;


describe.skipIf(skip)(`rollback to a snapshot taken under load ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('pgbench running during the snapshot: rollback recovers, no gaps, pg_amcheck clean', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    const conn = ['-h', server.socketDir, '-p', String(server.port), '-U', 'postgres'];
    execFileSync(path.join(PG_BIN[15], 'pgbench'), ['-i', '-s', '5', '-q', ...conn, 'postgres'], { stdio: 'ignore' });
    await server.query('create extension amcheck');
    await server.query('create table seq (id int primary key)');

    // One writer commits 1, 2, 3, …: a consistent instant has no gaps.
    const writer = await server.connect();
    let acked = 0;
    let writing = true;
    const writerDone = (async () => {
      while (writing) {
        await writer.query('insert into seq values ($1)', [acked + 1]);
        acked++;
      }
    })();
    const bench = runPgbench(['-c', '6', '-j', '3', '-T', '5', '--no-vacuum', ...conn, 'postgres']);
    await new Promise((r) => setTimeout(r, 1500));
    const ackedBefore = acked;
    const snap = await cliChild(suite.bundle, fx.root, ['--json', 'snapshot', '--label', 'load']);
    expect(snap.code, snap.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 1000));
    writing = false;
    await writerDone;
    await writer.end();
    const ackedAfter = acked;
    const b = await bench;
    expect(b.code, b.out).toBe(0);

    const rb = await cliChild(suite.bundle, fx.root, ['--json', 'rollback', snap.json.snapshot.name, '--yes']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.json.databaseRestarted).toBe(true);
    expect((await server.query('select pg_is_in_recovery() as r'))[0]!.r).toBe(false);
    const { n, max } = (await server.query<{ n: number; max: number }>('select count(*)::int as n, coalesce(max(id), 0) as max from seq'))[0]!;
    expect(n).toBe(max);
    expect(max).toBeGreaterThanOrEqual(ackedBefore);
    expect(max).toBeLessThan(ackedAfter);
    expect((await server.query('select count(*)::int as n from pgbench_accounts'))[0]!.n).toBe(500000);
    const amcheck = execFileSync(path.join(PG_BIN[15], 'pg_amcheck'), [...conn, '--heapallindexed', '--all'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(amcheck).not.toMatch(/error|corrupt/i);
  }, 300_000);
});
