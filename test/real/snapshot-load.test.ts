// The Ritual under load (pgbench, several clients) fails no client transaction, and the snapshot restores:
// a throwaway server on a writable clone recovers to exactly the rows committed before the snapshot
// (a marker committed after it is absent), and pg_amcheck finds nothing.
import { describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { PG_BIN, skipReason } from '../helpers/env.js';
import { runPgbench } from '../helpers/pg.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';
import { cli, cryptWithServer, startClone } from '../helpers/snap.js';

const scratches = scratchSuite();
let scratch: Scratch | undefined;


// PG15's pgbench and pg_amcheck drive every server version (the embedded 14/18 builds ship amcheck).
for (const version of [15, 14, 18] as const) {
  const skip = skipReason('root', 'btrfs', 'loop', 'pg15', 'pgbench', `pg${version}`);
  describe.skipIf(skip)(`snapshot under load, and restore, PostgreSQL ${version} ${skip ? `(skipped: ${skip})` : ''}`, () => {
    test('pgbench sees no failed transaction; the clone holds exactly what was committed before', async () => {
      scratch = await scratches.scratch();
      const { fx, server } = await cryptWithServer(scratch, version);
      const conn = ['-h', server.socketDir, '-p', String(server.port), '-U', 'postgres'];
      execFileSync(path.join(PG_BIN[15], 'pgbench'), ['-i', '-s', '5', '-q', ...conn, 'postgres'], { stdio: 'ignore' });
      await server.query('create extension amcheck');
      await server.query('create table seq (id int primary key, note text)');

      // A single writer commits ids 1, 2, 3, … one transaction each; we know which ones were acknowledged.
      const writer = await server.connect();
      let acked = 0;
      let writing = true;
      const writerDone = (async () => {
        while (writing) {
          await writer.query('insert into seq values ($1, $2)', [acked + 1, 'row']);
          acked++;
        }
      })();

      const bench = runPgbench(['-c', '8', '-j', '4', '-T', '6', '--no-vacuum', ...conn, 'postgres']);
      await new Promise((r) => setTimeout(r, 1500));
      const ackedBefore = acked;
      const r = await cli(fx.root, ['--json', 'snapshot', '--label', 'under load']);
      expect(r.code, r.stderr).toBe(0);
      writing = false;
      await writerDone;
      await writer.query("insert into seq values (-1, 'marker after the snapshot')");
      await writer.end();
      const second = await cli(fx.root, ['--json', 'snapshot', '--mode', 'checkpoint']);
      expect(second.code, second.stderr).toBe(0);

      const b = await bench;
      expect(b.code, b.out).toBe(0);
      expect(b.out).toMatch(/number of failed transactions: 0 /);
      expect(Number(/number of transactions actually processed: (\d+)/.exec(b.out)?.[1])).toBeGreaterThan(0);

      // Restore-test: a writable clone, started as a throwaway server, recovers from the snapshot's files.
      const name = r.json.snapshot.name as string;
      const clone = await startClone(scratch, path.join(fx.paths.snapshots, name), path.join(fx.root, 'clone'), version);
      const c = await clone.connect();
      try {
        const [{ n, max }] = (await c.query<{ n: number; max: number }>('select count(*)::int as n, coalesce(max(id), 0) as max from seq')).rows as [{ n: number; max: number }];
        expect(n).toBe(max); // no gaps: one consistent instant
        expect(max).toBeGreaterThanOrEqual(ackedBefore);
        expect((await c.query('select 1 from seq where id = -1')).rowCount).toBe(0);
        expect((await c.query('select pg_is_in_recovery() as r')).rows[0].r).toBe(false);
        expect((await c.query('select count(*)::int as n from pgbench_accounts')).rows[0].n).toBe(500000);
      } finally {
        await c.end();
      }
      const amcheck = execFileSync(
        path.join(PG_BIN[15], 'pg_amcheck'),
        ['-h', clone.socketDir, '-p', String(clone.port), '-U', 'postgres', '--heapallindexed', '--progress', 'postgres'],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
      expect(amcheck).not.toMatch(/error|corrupt/i);
    });
  });
}
