// PostgreSQL crashes while the Ritual talks to it (another backend is killed, so the postmaster resets
// every session): the snapshot fails as "server-crashed", says what the database does now, takes no
// snapshot, prints no stack trace — and never blames the connection settings.
import { describe, expect, test } from 'vitest';
import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';
import { cli, cryptWithServer } from '../helpers/snap.js';

const scratches = scratchSuite();
let scratch: Scratch | undefined;

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');

describe.skipIf(skip)(`a server crash during the Ritual ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('the snapshot fails as server-crashed and says what the database is doing', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    // Hold the Ritual in its preflight: it reads pg_tablespace, which this transaction locks.
    const blocker = await server.connect();
    blocker.on('error', () => {});
    await blocker.query('begin');
    await blocker.query('lock table pg_tablespace in access exclusive mode');
    const blockerPid = (await blocker.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;

    const snap = cli(fx.root, ['--json', 'snapshot']);
    let waiting = false;
    for (let i = 0; i < 300 && !waiting; i++) {
      // (A connection that blocks while it starts up is not in pg_stat_activity yet; its lock request is.)
      const r = await blocker.query('select 1 from pg_locks where not granted');
      waiting = (r.rowCount ?? 0) > 0;
      if (!waiting) await sleep(100);
    }
    if (!waiting) {
      const rows = (await blocker.query('select pid, application_name, state, wait_event_type, wait_event, left(query, 60) as q from pg_stat_activity')).rows;
      const done = await Promise.race([snap, sleep(100).then(() => 'pending')]);
      throw new Error(`not waiting: ${JSON.stringify(rows)} snapshot: ${JSON.stringify(done)}`);
    }
    // A backend killed by SIGKILL: the postmaster terminates every session and runs crash recovery.
    process.kill(blockerPid, 'SIGKILL');
    const r = await snap;
    if (process.env.CRASH_DEBUG) console.info(r.stderr);
    expect(r.code).toBe(1);
    expect(r.json.error.code, r.stderr).toBe('server-crashed');
    expect(r.stderr).toMatch(/PostgreSQL (is running|is restarting|runs)/);
    expect(r.stderr).not.toMatch(/pg_hba|Fix postgres\.connection/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.json.error.hint).toMatch(/db status/);
    expect((await readdir(fx.paths.snapshots)).length).toBe(0);
    await blocker.end().catch(() => {});
    // The server recovers by itself; a snapshot then works.
    for (let i = 0; i < 100; i++) {
      if ((await cli(fx.root, ['db', 'status'])).code === 0) break;
      await sleep(100);
    }
    expect((await cli(fx.root, ['snapshot'])).code).toBe(0);
  });
});
