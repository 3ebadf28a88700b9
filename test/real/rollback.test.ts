// rollback on a real crypt with a real PostgreSQL 15, through the bundled runtime: the marker round trip
// (rollback and its undo), refusals (unknown snapshot, service none with the server running, another
// cluster), and --dry-run changing nothing.
import { describe, expect, test } from 'vitest';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { reconfigure } from '../helpers/crypt-fixture.js';
import { skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite, scratchSuite } from '../helpers/suite.js';
import { cliChild } from '../helpers/snap.js';
import { writeJsonAtomic } from '../../src/base/sys/fs.js';
import { sh } from '../helpers/host.js';
import { serverCrypt } from '../helpers/scenes.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');
const scratches = scratchSuite();
let scratch: Scratch | undefined;

describe.skipIf(skip)(`rollback ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  /** A crypt with table t, a snapshot of it empty (name), and a row inserted after it. */
  async function snapshotted() {
    const c = await serverCrypt(scratches, suite.bundle, 15);
    await c.server.query('create table t (v text)');
    const snap = await c.run(['--json', 'snapshot']);
    expect(snap.code, snap.stderr).toBe(0);
    const name: string = snap.json.snapshot.name;
    await c.server.query("insert into t values ('after')");
    return { ...c, name };
  }

  test('marker round trip: rollback restores row A + v1, undo restores A,B + v2', async () => {
    const { fx, server, run } = await serverCrypt(scratches, suite.bundle, 15);
    const marker = path.join(fx.paths.active, 'app', 'marker.txt');
    await mkdir(path.dirname(marker));
    await server.query('create table t (v text)');
    await server.query("insert into t values ('A')");
    await writeFile(marker, 'v1');

    const snap = await run(['--json', 'snapshot', '--label', 'before']);
    expect(snap.code, snap.stderr).toBe(0);
    const name: string = snap.json.snapshot.name;
    await server.query("insert into t values ('B')");
    await writeFile(marker, 'v2');

    const rb = await run(['--json', 'rollback', name, '--yes']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.json.databaseRestarted).toBe(true);
    expect(typeof rb.json.recoveryMs).toBe('number');
    const pre: string = rb.json.preRollback;
    expect(pre).toMatch(/-pre-rollback$/);
    expect(rb.json.undo).toBe(`lychd-crypt rollback ${pre}`);
    expect(server.isRunning()).toBe(true);
    expect((await server.query('select v from t order by v')).map((r) => r.v)).toEqual(['A']);
    expect((await server.query('select pg_is_in_recovery() as r'))[0]!.r).toBe(false);
    expect(await readFile(marker, 'utf8')).toBe('v1');
    expect((await readdir(fx.root)).filter((n) => n.startsWith('.staging'))).toEqual([]);
    await expect(readFile(fx.paths.journal)).rejects.toThrow();

    // The pre-rollback snapshot is listed, read-only, and says which rollback made it.
    const list = await run(['--json', 'list']);
    const listed = list.json.snapshots.find((s: { name: string }) => s.name === pre);
    expect(listed).toBeTruthy();
    const meta = JSON.parse(await readFile(path.join(fx.paths.snapshots, `${pre}.json`), 'utf8'));
    expect(meta.origin).toMatchObject({ kind: 'pre-rollback', rollbackTo: name });
    const ro = sh(['btrfs', 'property', 'get', '-ts', path.join(fx.paths.snapshots, pre), 'ro']);
    expect(ro).toMatch(/ro=true/);

    // Undo.
    const undo = await run(['--json', 'rollback', pre, '--yes']);
    expect(undo.code, undo.stderr).toBe(0);
    expect((await server.query('select v from t order by v')).map((r) => r.v)).toEqual(['A', 'B']);
    expect((await server.query('select pg_is_in_recovery() as r'))[0]!.r).toBe(false);
    expect(await readFile(marker, 'utf8')).toBe('v2');
    expect((await readdir(fx.root)).filter((n) => n.startsWith('.staging'))).toEqual([]);
  }, 180_000);

  test('refusals change nothing: unknown snapshot (2), service none while running (3), no --yes (3); --dry-run changes nothing', async () => {
    const { fx, server, run, name } = await snapshotted();
    const before = (await readdir(fx.root)).sort();
    const beforeSnaps = (await readdir(fx.paths.snapshots)).sort();

    const unknown = await run(['rollback', '20200101T000000Z-nope', '--yes']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no such snapshot: 20200101T000000Z-nope/);

    const noYes = await run(['rollback', name]);
    expect(noYes.code).toBe(3);

    const dry = await run(['--json', 'rollback', name, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json.dryRun).toBe(true);
    expect(dry.json.plan.steps.join('\n')).toMatch(/RENAME_EXCHANGE/);

    await reconfigure(fx, { ...fx.config, postgres: { ...fx.config.postgres!, service: { kind: 'none' } } });
    const none = await run(['rollback', name, '--yes']);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/postgres\.service is none/);

    expect(server.isRunning()).toBe(true);
    expect((await server.query('select count(*)::int as n from t'))[0]!.n).toBe(1);
    expect((await readdir(fx.root)).sort()).toEqual(before);
    expect((await readdir(fx.paths.snapshots)).sort()).toEqual(beforeSnaps);
    await expect(readFile(fx.paths.journal)).rejects.toThrow();

    // With the server stopped by hand, service none rolls back and leaves it stopped.
    server.stop();
    const cold = await run(['--json', 'rollback', name, '--yes']);
    expect(cold.code, cold.stderr).toBe(0);
    expect(cold.json.databaseRestarted).toBe(false);
    expect(server.isRunning()).toBe(false);
    server.start();
    expect((await server.query('select count(*)::int as n from t'))[0]!.n).toBe(0);
  }, 180_000);

  test('another cluster (system identifier) is refused (3) unless --force; a nested subvolume in active/ is refused; nothing changed', async () => {
    const { fx, server, run, name } = await snapshotted();
    const metaFile = path.join(fx.paths.snapshots, `${name}.json`);
    const meta = JSON.parse(await readFile(metaFile, 'utf8'));
    await writeJsonAtomic(metaFile, { ...meta, postgres: { ...meta.postgres, systemIdentifier: '7000000000000000001' } });

    const foreign = await run(['rollback', name, '--yes']);
    expect(foreign.code).toBe(3);
    expect(foreign.stderr).toMatch(/system identifier 7000000000000000001/);
    expect(foreign.stderr).toMatch(/--force/);

    sh(['btrfs', 'subvolume', 'create', path.join(fx.paths.active, 'nested')]);
    const nested = await run(['rollback', name, '--yes', '--force']);
    expect(nested.code).toBe(1);
    expect(nested.stderr).toMatch(/nested/);
    sh(['btrfs', 'subvolume', 'delete', path.join(fx.paths.active, 'nested')]);

    expect(server.isRunning()).toBe(true);
    expect((await server.query('select count(*)::int as n from t'))[0]!.n).toBe(1);
    expect((await readdir(fx.root)).filter((n) => n.startsWith('.staging'))).toEqual([]);

    const forced = await run(['--json', 'rollback', name, '--yes', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect((await server.query('select count(*)::int as n from t'))[0]!.n).toBe(0);
  }, 180_000);

  test('a target whose database does not start: exit 1 naming the undo, journal clear, and the undo works', async () => {
    const { fx, server, run } = await serverCrypt(scratches, suite.bundle, 15);
    await server.query('create table t (v text)');
    const conf = path.join(fx.pgdata, 'postgresql.conf');
    const good = await readFile(conf, 'utf8');
    await writeFile(conf, `${good}\nshared_buffers = 'bogus'\n`); // not reloaded: the live server is fine
    const snap = await run(['--json', 'snapshot']);
    expect(snap.code, snap.stderr).toBe(0);
    await writeFile(conf, good);
    await server.query("insert into t values ('kept')");

    const rb = await run(['rollback', snap.json.snapshot.name, '--yes']);
    expect(rb.code, rb.stderr).toBe(1);
    expect(rb.stderr).toMatch(/PostgreSQL did not come up/);
    const pre = /lychd-crypt (?:--\S+ \S+ )*rollback (\S+-pre-rollback)/.exec(rb.stderr)?.[1];
    expect(pre, rb.stderr).toBeTruthy();
    await expect(readFile(fx.paths.journal)).rejects.toThrow();
    expect(server.isRunning()).toBe(false);

    const undo = await run(['--json', 'rollback', pre!, '--yes']);
    expect(undo.code, undo.stderr).toBe(0);
    expect(undo.json.databaseRestarted).toBe(false); // it was not running: the undo leaves it stopped
    server.start();
    expect((await server.query('select v from t'))[0]!.v).toBe('kept');
  }, 180_000);

  test('a crypt without a database: rollback swaps the files only', async () => {
    scratch = await scratches.scratch();
    const { makeCryptFixture } = await import('../helpers/crypt-fixture.js');
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 512 });
    const run = (args: string[]) => cliChild(suite.bundle, fx.root, args);
    const file = path.join(fx.paths.active, 'data.txt');
    await writeFile(file, 'one');
    const snap = await run(['--json', 'snapshot']);
    expect(snap.code, snap.stderr).toBe(0);
    await writeFile(file, 'two');
    const rb = await run(['--json', 'rollback', snap.json.snapshot.name, '--yes']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.json.databaseRestarted).toBe(false);
    expect(await readFile(file, 'utf8')).toBe('one');
    const doctor = await run(['--json', 'doctor']);
    // The fixture is not made by init (no mount record, no runtime installed): only the layout matters here.
    const bad = (doctor.json.checks as { id: string; status: string }[]).filter((c) => /^(layout|snapshots|journal)\./.test(c.id) && c.status !== 'ok');
    expect(bad).toEqual([]);
  }, 120_000);
});
