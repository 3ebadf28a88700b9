// `snapshot --mode instant` (no CHECKPOINT, no backup mode) under pgbench load: the atomic snapshot alone is
// crash-consistent. Rolled back, the server recovers out of recovery and pgbench's books balance
// (sum of pgbench_accounts.abalance = sum of pgbench_history.delta, likewise tellers and branches).
import { describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { PG_BIN, skipReason } from '../helpers/env.js';
import { runPgbench } from '../helpers/pg.js';
import { cliSuite } from '../helpers/suite.js';
import { cliChild, cryptWithServer } from '../helpers/snap.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15', 'pgbench');
describe.skipIf(skip)(`snapshot --mode instant under load, rolled back ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('no checkpoint, no backup mode; rollback recovers and the pgbench sums agree', async () => {
    const scratch = await suite.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    const conn = ['-h', server.socketDir, '-p', String(server.port), '-U', 'postgres'];
    execFileSync(path.join(PG_BIN[15], 'pgbench'), ['-i', '-s', '5', '-q', ...conn, 'postgres'], { stdio: 'ignore' });
    const bench = runPgbench(['-c', '6', '-j', '3', '-T', '8', '--no-vacuum', ...conn, 'postgres']);
    await new Promise((r) => setTimeout(r, 1500));
    const snap = await cliChild(suite.bundle, fx.root, ['--json', 'snapshot', '--mode', 'instant', '--label', 'instant']);
    expect(snap.code, snap.stderr).toBe(0);
    const meta = snap.json.snapshot;
    expect(meta.mode).toBe('instant');
    expect(Object.keys(meta.timings)).not.toContain('checkpoint');
    expect(Object.keys(meta.timings)).not.toContain('backup-start');
    expect(meta.postgres.startLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(meta.postgres.stopLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(meta.postgres.labelfile).toBeNull();
    const b = await bench;
    expect(b.code, b.out).toBe(0);
    expect(b.out).toMatch(/number of failed transactions: 0 /);
    // Work committed after the snapshot, whatever the machine's speed: rollback must take it away.
    const after = await runPgbench(['-c', '2', '-t', '50', '--no-vacuum', ...conn, 'postgres']);
    expect(after.code, after.out).toBe(0);
    const historyAfter = (await server.query<{ n: number }>('select count(*)::int as n from pgbench_history'))[0]!.n;

    const rb = await cliChild(suite.bundle, fx.root, ['--json', 'rollback', meta.name, '--yes']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.json.databaseRestarted).toBe(true);
    expect((await server.query('select pg_is_in_recovery() as r'))[0]!.r).toBe(false);
    const sums = (
      await server.query<{ acc: string; tel: string; bra: string; hist: string; n: number }>(
        `select (select coalesce(sum(abalance), 0) from pgbench_accounts)::text as acc,
                (select coalesce(sum(tbalance), 0) from pgbench_tellers)::text as tel,
                (select coalesce(sum(bbalance), 0) from pgbench_branches)::text as bra,
                (select coalesce(sum(delta), 0) from pgbench_history)::text as hist,
                (select count(*)::int from pgbench_history) as n`,
      )
    )[0]!;
    expect(sums.n).toBeGreaterThan(0); // the snapshot was taken while pgbench wrote
    expect(sums.n).toBeLessThan(historyAfter); // and rollback went back to it
    expect(sums.acc).toBe(sums.hist);
    expect(sums.tel).toBe(sums.hist);
    expect(sums.bra).toBe(sums.hist);
    const amcheck = execFileSync(path.join(PG_BIN[15], 'pg_amcheck'), [...conn, '--heapallindexed', '--all', '--install-missing'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(amcheck).not.toMatch(/error|corrupt/i);
  }, 300_000);
});
