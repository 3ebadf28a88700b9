// Rollback and undo with the live WAL outside the crypt (postgres.walDir, docs/wal.md). The restored state
// gets its own WAL generation filled only from the snapshot: rows committed before pg_backup_start are back,
// the one committed after pg_backup_stop is not — with wal_keep_size holding the newer segments, a restore
// beside the live WAL directory would replay it and bring it back (the failure this guards against) —,
// pgbench's books balance and pg_amcheck is clean; the replaced state keeps its WAL in its pre-rollback
// snapshot, so the undo brings every row back; the old generation is gone, exactly one is linked.
// A rollback killed after each WAL step is finished or undone by the next command.
import { describe, expect, test } from 'vitest';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { PG_BIN, skipReason } from '../helpers/env.js';
import { ids, sh } from '../helpers/host.js';
import { runPgbench } from '../helpers/pg.js';
import { cliSuite } from '../helpers/suite.js';
import { activeUuid, walCrypt } from '../helpers/wal.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15', 'pgbench');

describe.skipIf(skip)(`rollback with an outside WAL ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  /** The one generation under walDir, and that active/'s pg_wal links to it (named by active/'s UUID). */
  async function oneLinkedGen(c: { fx: { paths: { active: string }; pgdata: string }; walDir: string }) {
    const gens = await readdir(c.walDir);
    const expected = `gen-${activeUuid(c.fx.paths.active)}`;
    expect(gens).toEqual([expected]);
    expect(await readlink(path.join(c.fx.pgdata, 'pg_wal'))).toBe(path.join(c.walDir, expected));
    // The link and the generation are the server's user's (doctor's owners.pgdata would flag a root-owned link).
    const uid = ids('postgres').uid;
    expect((await lstat(path.join(c.fx.pgdata, 'pg_wal'))).uid).toBe(uid);
    expect((await lstat(path.join(c.walDir, expected))).uid).toBe(uid);
  }

  test('snapshot under pgbench, rollback: rows before the backup present, after it absent; books balance; amcheck clean; undo', async () => {
    const c = await walCrypt(suite, suite.bundle, { conf: ['wal_keep_size = 512MB'] });
    const { server, run, fx } = c;
    const conn = ['-h', server.socketDir, '-p', String(server.port), '-U', 'postgres'];
    execFileSync(path.join(PG_BIN[15], 'pgbench'), ['-i', '-s', '2', '-q', ...conn, 'postgres'], { stdio: 'ignore' });
    await server.query('create extension amcheck');
    await server.query('create table m (v text)');
    await server.query("insert into m values ('before')");

    const bench = runPgbench(['-c', '4', '-T', '5', '-n', ...conn, 'postgres']);
    await new Promise((r) => setTimeout(r, 1000));
    const snap = await run(['--json', 'snapshot', '--label', 'base']);
    expect(snap.code, snap.stderr).toBe(0);
    await server.query("insert into m values ('after')");
    expect((await bench).out).toMatch(/number of failed transactions: 0/);
    const name: string = snap.json.snapshot.name;

    const rb = await run(['--json', 'rollback', name, '--yes']);
    expect(rb.code, rb.stderr).toBe(0);
    const rows = async () => (await server.query<{ v: string }>('select v from m order by v')).map((r) => r.v);
    expect(await rows()).toEqual(['before']);
    expect((await server.query('select pg_is_in_recovery() as r'))[0]!.r).toBe(false);
    const books = await server.query<{ a: string; h: string }>('select (select sum(abalance) from pgbench_accounts)::text as a, (select coalesce(sum(delta), 0) from pgbench_history)::text as h');
    expect(books[0]!.a).toBe(books[0]!.h);
    const amcheck = execFileSync(path.join(PG_BIN[15], 'pg_amcheck'), [...conn, '--heapallindexed', 'postgres'], { encoding: 'utf8' });
    expect(amcheck).not.toMatch(/error|corrupt/i);
    await oneLinkedGen(c);

    // The replaced state carries its own WAL: a real pg_wal, read-only, metadata saying so.
    const pre: string = rb.json.preRollback;
    const preWal = path.join(fx.paths.snapshots, pre, 'postgres', 'pg_wal');
    expect((await lstat(preWal)).isDirectory()).toBe(true);
    expect((await readdir(preWal)).filter((f) => /^[0-9A-F]{24}$/.test(f)).length).toBeGreaterThanOrEqual(1);
    const preMeta = JSON.parse(await readFile(path.join(fx.paths.snapshots, `${pre}.json`), 'utf8'));
    expect(preMeta.postgres.wal).toMatchObject({ placement: 'outside', label: 'none' });

    // Undo: every row of the replaced state is back, on a generation of its own again.
    await server.query("insert into m values ('lost-by-undo')");
    const undo = await run(['--json', 'rollback', pre, '--yes']);
    expect(undo.code, undo.stderr).toBe(0);
    expect(await rows()).toEqual(['after', 'before']);
    await oneLinkedGen(c);
    // The restored states took their WAL from the snapshots alone: the snapshot taken first still verifies.
    const verify = await run(['--json', 'verify', name]);
    expect(verify.code, verify.stderr + verify.stdout).toBe(0);
  }, 240_000);

  const skip18 = skipReason('pg18');
  test.skipIf(skip18)(`PostgreSQL 18 (its build has no pg_controldata: pg_control is read): rollback, undo, and a cold snapshot restored ${skip18 ? `(skipped: ${skip18})` : ''}`, async () => {
    const c = await walCrypt(suite, suite.bundle, { version: 18 });
    const { server, run } = c;
    const rows = async () => (await server.query<{ v: string }>('select v from m order by v')).map((r) => r.v);
    await server.query('create table m (v text)');
    await server.query("insert into m values ('a')");
    const snap = await run(['--json', 'snapshot']);
    expect(snap.code, snap.stderr).toBe(0);
    await server.query("insert into m values ('b')");
    const rb = await run(['--json', 'rollback', snap.json.snapshot.name, '--yes']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(await rows()).toEqual(['a']);
    await oneLinkedGen(c);
    const undo = await run(['--json', 'rollback', rb.json.preRollback, '--yes']);
    expect(undo.code, undo.stderr).toBe(0);
    expect(await rows()).toEqual(['a', 'b']);

    // Cold: the stopped cluster's WAL from its last checkpoint on is copied in; the restore has every row.
    server.stop();
    const cold = await run(['--json', 'snapshot', '--label', 'cold']);
    expect(cold.code, cold.stderr).toBe(0);
    expect(cold.json.snapshot.mode).toBe('cold');
    server.start();
    await server.query("insert into m values ('c')");
    const back = await run(['--json', 'rollback', cold.json.snapshot.name, '--yes']);
    expect(back.code, back.stderr).toBe(0);
    expect(await rows()).toEqual(['a', 'b']);
    await oneLinkedGen(c);
  }, 180_000);

  test('after a timeline switch: the snapshot carries the history file and timeline-2 segments; rollback and undo', async () => {
    const c = await walCrypt(suite, suite.bundle, { conf: ["restore_command = 'false'"] });
    const { server, run, fx } = c;
    const rows = async () => (await server.query<{ v: string }>('select v from m order by v')).map((r) => r.v);
    await server.query('create table m (v text)');
    await server.query("insert into m values ('a')");
    // Archive recovery to the end of the local WAL ends on a new timeline (00000002.history appears).
    server.stop();
    const signal = path.join(fx.pgdata, 'recovery.signal');
    execFileSync('setpriv', [`--reuid=${ids('postgres').uid}`, `--regid=${ids('postgres').gid}`, '--clear-groups', 'touch', signal]);
    server.start();
    for (let i = 0; i < 100 && (await server.query('select pg_is_in_recovery() as r'))[0]!.r; i++) await new Promise((r) => setTimeout(r, 100));
    await server.query('checkpoint');
    expect((await server.query<{ t: number }>('select timeline_id as t from pg_control_checkpoint()'))[0]!.t).toBe(2);
    await server.query("insert into m values ('b')");

    const snap = await run(['--json', 'snapshot']);
    expect(snap.code, snap.stderr).toBe(0);
    const name: string = snap.json.snapshot.name;
    const meta = JSON.parse(await readFile(path.join(fx.paths.snapshots, `${name}.json`), 'utf8'));
    expect(meta.postgres.wal).toMatchObject({ timeline: 2, histories: ['00000002.history'] });
    expect(meta.postgres.wal.segments.first).toMatch(/^00000002/);
    expect(await readdir(path.join(fx.paths.snapshots, name, 'postgres', 'pg_wal'))).toContain('00000002.history');
    await server.query("insert into m values ('c')");

    const rb = await run(['--json', 'rollback', name, '--yes']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(await rows()).toEqual(['a', 'b']);
    await oneLinkedGen(c);
    expect(await readdir(path.join(fx.pgdata, 'pg_wal'))).toContain('00000002.history');
    const undo = await run(['--json', 'rollback', rb.json.preRollback, '--yes']);
    expect(undo.code, undo.stderr).toBe(0);
    expect(await rows()).toEqual(['a', 'b', 'c']);
  }, 180_000);

  const POINTS: { point: string; after: 'old' | 'new' }[] = [
    { point: 'rollback:prepare', after: 'old' },
    { point: 'wal:aside', after: 'old' },
    { point: 'rollback:wal-fill', after: 'old' },
    { point: 'rollback:swap', after: 'new' },
    { point: 'rollback:keep-moved', after: 'new' },
    { point: 'rollback:keep-wal', after: 'new' },
    { point: 'rollback:keep', after: 'new' },
    { point: 'rollback:wal-drop', after: 'new' },
  ];

  test('SIGKILL after each WAL step, then the next command: old or new state whole, one generation linked, none stray', async () => {
    const c = await walCrypt(suite, suite.bundle);
    const { server, run, fx } = c;
    await server.query('create table t (v text)');
    await server.query("insert into t values ('A')");
    const snap = await run(['--json', 'snapshot', '--label', 'base']);
    expect(snap.code, snap.stderr).toBe(0);
    const target: string = snap.json.snapshot.name;
    const rows = async () => (await server.query<{ v: string }>('select v from t order by v')).map((r) => r.v).join(',');

    for (const [i, { point, after }] of POINTS.entries()) {
      await server.query('delete from t where v <> $1', ['A']);
      await server.query('insert into t values ($1)', [`X${i}`]);
      const live = await rows();
      const killed = await run(['rollback', target, '--yes'], { LYCHD_CRYPT_FAULT: point });
      expect(killed.signal, `${point}: ${killed.stderr}`).toBe('SIGKILL');
      const healed = await run(i % 2 ? ['--json', 'repair', '--yes'] : ['--json', 'snapshot', '--label', 'heal']);
      expect(healed.code, `${point}: ${healed.stderr}${healed.stdout}`).toBe(0);
      await expect(readFile(fx.paths.journal), point).rejects.toThrow();
      expect(sh(['btrfs', 'subvolume', 'list', '-o', fx.root]), point).not.toMatch(/\.staging/);
      expect(server.isRunning(), point).toBe(true);
      expect(await rows(), point).toBe(after === 'old' ? live : 'A');
      await oneLinkedGen(c);
    }
  }, 600_000);
});
