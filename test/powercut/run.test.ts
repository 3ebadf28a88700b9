// Power cuts inside a guarded change (`run`) that fails, under pgbench: the before snapshot (the Ritual),
// COMMAND changing the live data (the marker file and row to B), the failure, and the automatic rollback
// that stops the database under load. At each durable state, besides the checks of every state (rig.ts):
// after `repair` the crypt is at the before state (A) — never the failed change, whatever the cut
// interrupted (issue 29, finding 1: a cut before the rollback's swap was undone, leaving B live); pgbench's
// books balance; where the run had begun, the failed (or interrupted) state is kept as one pre-rollback
// snapshot; and recovery never says it undid the run's rollback.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PG_BIN } from '../helpers/env.js';
import { powercutSkipReason } from '../helpers/powercut.js';
import { journalAt } from '../helpers/powercut-log.js';
import { powercutSuite, recordOperation, replayAndCheck } from './rig.js';

const skip = powercutSkipReason('root', 'btrfs', 'loop', 'pg15', 'pgbench');

type Journal = { op: string; phase: string; stagedUuid?: string | null } | null;

describe.skipIf(skip)(`power cut inside a guarded run ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = powercutSuite();

  it('every durable state of a failing run under pgbench: the before state, the books balanced, the failed state kept', async () => {
    const rig = await suite.rig();
    const { server } = rig;
    const conn = ['-h', server.socketDir, '-p', String(server.port), '-U', 'postgres'];
    // Asynchronous commits: the load writes all the time, but PostgreSQL flushes WAL a few times a second
    // (its WAL writer), not at every commit, so the states to replay stay countable (every commit a flush
    // made 855 states of one run).
    const pgbench = (args: string[]) =>
      spawn(path.join(PG_BIN[15], 'pgbench'), [...args, ...conn, 'postgres'], { stdio: 'ignore', env: { ...process.env, LC_ALL: 'C', PGOPTIONS: '-c synchronous_commit=off' } });
    await new Promise((resolve) => pgbench(['-i', '-s', '1', '-q']).on('close', resolve));
    const psql = `${path.join(PG_BIN[15], 'psql')} -X -q ${conn.join(' ')} -d postgres`;
    // The change: generation B, files and rows, then the failure.
    const change = ['sh', '-c', `echo -n B > ${rig.marker} && ${psql} -c "delete from gen; insert into gen values ('B')" && exit 7`];

    const { rec, states } = await recordOperation(rig, async () => {
      const bench = pgbench(['-c', '2', '-j', '2', '-T', '600', '--no-vacuum']);
      const benchDone = new Promise((resolve) => bench.on('close', resolve));
      await new Promise((r) => setTimeout(r, 1000));
      try {
        const r = rig.c.cli('run', '--label', 'guarded', '--json', '--', ...change);
        if (r.code !== 7 || r.json?.rolledBack !== true) throw new Error(`run: exit ${r.code}: ${r.stdout}${r.stderr}`);
      } finally {
        bench.kill('SIGKILL');
        await benchDone;
      }
    });

    // The quick sample adds the first state of each journal entry the run writes (its phases, and its
    // rollback's before and after the swap): where finding 1 lived.
    let last = '';
    const journalProbe = (j: Journal) => {
      const key = j ? `${j.op}/${j.phase}/${j.stagedUuid ?? ''}` : '';
      const first = (j?.op === 'run' || j?.op === 'run-rollback' || j?.op === 'rollback') && key !== last;
      last = key;
      return first;
    };
    const { failures, visited } = await replayAndCheck(rig, rec, states, {
      generations: ['A'],
      journalProbe,
      judge: ({ state, repair }) => {
        const j = journalAt(rec.records, state.point.index) as Journal;
        const out: string[] = [];
        const repaired = repair.stdout + repair.stderr;
        if (j?.op === 'run-rollback' && /undid the interrupted rollback/.test(repaired)) out.push(`recovery undid the run's rollback (${j.phase})`);
        if (j?.op === 'run' || j?.op === 'run-rollback') {
          const list = rig.c.cli('list', '--json');
          const kept = (list.json?.snapshots ?? []).filter((s: { origin: string }) => s.origin === 'pre-rollback');
          if (kept.length !== 1) out.push(`journal ${j.op}/${j.phase}: ${kept.length} pre-rollback snapshots listed after repair, not 1`);
        }
        return out;
      },
      data: async () => {
        const [b] = await server.query<{ a: string; t: string; br: string; h: string }>(
          `select (select sum(abalance) from pgbench_accounts)::text as a, (select sum(tbalance) from pgbench_tellers)::text as t,
                  (select sum(bbalance) from pgbench_branches)::text as br, (select coalesce(sum(delta), 0) from pgbench_history)::text as h`,
        );
        return b && b.a === b.h && b.t === b.h && b.br === b.h ? null : `pgbench's books do not balance: ${JSON.stringify(b)}`;
      },
    });
    console.log(`run: ${states.length} durable states (${rec.records.filter((r) => r.kind === 'flush').length} flushes), replayed ${visited}`);
    expect(failures).toEqual([]);
  }, 3_600_000);
});
