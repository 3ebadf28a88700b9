// The Ritual with the live WAL outside the crypt (postgres.walDir, docs/wal.md): under pgbench no client
// transaction fails; the snapshot is read-only and self-contained (its own real pg_wal holding exactly the
// backup's segments, backup_label), the temporary slot is gone, the metadata names the restore point (the
// stop LSN); modes other than bracket/cold are refused (exit 2); a stop LSN in a later segment is copied whole.
import { describe, expect, test } from 'vitest';
import { lstat, readdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { PG_BIN, skipReason } from '../helpers/env.js';
import { sh } from '../helpers/host.js';
import { runPgbench } from '../helpers/pg.js';
import { cliSuite } from '../helpers/suite.js';
import { walCrypt } from '../helpers/wal.js';
import { reconfigure } from '../helpers/crypt-fixture.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15', 'pgbench');

describe.skipIf(skip)(`snapshot with an outside WAL ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('under pgbench: 0 failed transactions; the snapshot carries the backup range, its label, read-only; no slot left', async () => {
    const { fx, server, run, gen } = await walCrypt(suite, suite.bundle);
    const conn = ['-h', server.socketDir, '-p', String(server.port), '-U', 'postgres'];
    execFileSync(path.join(PG_BIN[15], 'pgbench'), ['-i', '-s', '2', '-q', ...conn, 'postgres'], { stdio: 'ignore' });
    const bench = runPgbench(['-c', '4', '-T', '6', '-n', ...conn, 'postgres']);
    await new Promise((r) => setTimeout(r, 1500));
    const snap = await run(['--json', 'snapshot', '--label', 'load']);
    const b = await bench;
    expect(snap.code, snap.stderr).toBe(0);
    expect(b.code, b.out).toBe(0);
    expect(b.out).toMatch(/number of failed transactions: 0/);

    const name: string = snap.json.snapshot.name;
    const dir = path.join(fx.paths.snapshots, name);
    const meta = JSON.parse(await readFile(`${dir}.json`, 'utf8'));
    expect(meta.mode).toBe('bracket');
    const wal = meta.postgres.wal;
    expect(wal).toMatchObject({ placement: 'outside', restorePoint: meta.postgres.stopLsn, timeline: 1, held: 'slot', label: 'own' });
    expect(wal.segments.count).toBeGreaterThanOrEqual(1);
    expect(wal.bytes).toBeGreaterThanOrEqual(16 * 2 ** 20);
    const pgWal = path.join(dir, 'postgres', 'pg_wal');
    expect((await lstat(pgWal)).isDirectory()).toBe(true); // a real directory, not the live link
    const files = (await readdir(pgWal)).sort();
    expect(files.filter((f) => /^[0-9A-F]{24}$/.test(f))).toEqual(
      Array.from({ length: wal.segments.count }, (_, i) => (BigInt(`0x${wal.segments.first}`) + BigInt(i)).toString(16).toUpperCase().padStart(24, '0')),
    );
    expect(files).toContain('archive_status');
    expect(files.some((f) => f.endsWith('.partial'))).toBe(false);
    expect(await readFile(path.join(dir, 'postgres', 'backup_label'), 'utf8')).toBe(meta.postgres.labelfile);
    expect(sh(['btrfs', 'property', 'get', '-ts', dir, 'ro'])).toMatch(/ro=true/);
    // The live state still links to its generation; no slot is left on the server.
    expect(execFileSync('readlink', [path.join(fx.pgdata, 'pg_wal')], { encoding: 'utf8' }).trim()).toBe(gen);
    expect(await server.query('select slot_name from pg_replication_slots')).toEqual([]);
    // list says where a restore of it ends.
    const list = await run(['list']);
    expect(list.stdout).toMatch(/restore point/);
    // pg_waldump reads the copied range from the snapshot alone.
    const label = meta.postgres.labelfile as string;
    const start = /START WAL LOCATION: (\S+)/.exec(label)![1]!;
    execFileSync(path.join(PG_BIN[15], 'pg_waldump'), ['-p', pgWal, '-s', start, '-e', meta.postgres.stopLsn], { stdio: 'ignore' });
  }, 120_000);

  test('modes other than bracket and cold are refused with the reason (exit 2), nothing taken', async () => {
    const { fx, run } = await walCrypt(suite, suite.bundle);
    for (const mode of ['checkpoint', 'instant', 'none']) {
      const r = await run(['snapshot', '--mode', mode]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`--mode ${mode} cannot work with postgres.walDir`));
    }
    expect((await readdir(fx.paths.snapshots)).length).toBe(0);
  }, 60_000);

  test('1 MiB segments under a bulk writer: the backup spans several segments, all copied and checked', async () => {
    const { fx, server, run } = await walCrypt(suite, suite.bundle, { segSizeMiB: 1 });
    await server.query('create table big (v text)');
    // A writer that never pauses: the WAL between backup start (its checkpoint's redo) and stop is megabytes.
    const writer = await server.connect();
    let writing = true;
    const done = (async () => {
      while (writing) await writer.query("insert into big select repeat(md5(random()::text), 30) from generate_series(1, 2000)");
    })();
    await new Promise((r) => setTimeout(r, 500));
    const snap = await run(['--json', 'snapshot']);
    writing = false;
    await done;
    await writer.end();
    expect(snap.code, snap.stderr).toBe(0);
    const name: string = snap.json.snapshot.name;
    const meta = JSON.parse(await readFile(path.join(fx.paths.snapshots, `${name}.json`), 'utf8'));
    expect(meta.postgres.wal.segments.count).toBeGreaterThanOrEqual(2);
    const segs = (await readdir(path.join(fx.paths.snapshots, name, 'postgres', 'pg_wal'))).filter((f) => /^[0-9A-F]{24}$/.test(f));
    expect(segs.length).toBe(meta.postgres.wal.segments.count);
    expect(meta.postgres.wal.bytes).toBe(segs.length * 2 ** 20);
  }, 90_000);

  test('verify needs nothing outside the snapshot (walDir moved away meanwhile); SIGKILL after the copy or the seal leaves no snapshot and no slot', async () => {
    const { fx, server, run, walDir } = await walCrypt(suite, suite.bundle);
    await server.query('create table m (v text)');
    await server.query("insert into m values ('a')");
    for (const point of ['snapshot:after-wal-copy', 'snapshot:after-seal']) {
      const killed = await run(['snapshot'], { LYCHD_CRYPT_FAULT: point });
      expect(killed.signal, point).toBe('SIGKILL');
      const next = await run(['--json', 'list']);
      expect(next.code, point).toBe(0);
      const heal = await run(['--json', 'snapshot', '--label', 'heal']);
      expect(heal.code, `${point}: ${heal.stderr}`).toBe(0);
      const names = (await readdir(fx.paths.snapshots)).filter((n) => !n.endsWith('.json'));
      expect(names, point).toEqual([heal.json.snapshot.name]);
      expect(await server.query('select slot_name from pg_replication_slots'), point).toEqual([]);
      await run(['--json', 'delete', heal.json.snapshot.name, '--yes']);
    }
    const snap = await run(['--json', 'snapshot']);
    expect(snap.code, snap.stderr).toBe(0);
    server.stop();
    await rename(walDir, `${walDir}.away`);
    try {
      const v = await run(['--json', 'verify', snap.json.snapshot.name]);
      expect(v.code, v.stderr + v.stdout).toBe(0);
      // The clone became consistent exactly at the backup's stop LSN.
      expect(v.json.checks.find((x: { name: string }) => x.name === 'restore-point')).toMatchObject({ ok: true, detail: expect.stringMatching(/the backup's stop LSN/) });
    } finally {
      await rename(`${walDir}.away`, walDir);
      server.start();
    }
  }, 120_000);

  test('a role without REPLICATION: the WAL is not held (a warning naming the fix), the snapshot still whole; with it, held by the slot', async () => {
    const { fx, server, run } = await walCrypt(suite, suite.bundle);
    await server.query('create role snap login');
    await server.query('grant execute on function pg_backup_start(text, boolean) to snap');
    await server.query('grant execute on function pg_backup_stop(boolean) to snap');
    await server.query('grant pg_checkpoint to snap');
    const config = structuredClone(fx.config);
    config.postgres!.connection.user = 'snap';
    await reconfigure(fx, config);
    const unheld = await run(['--json', 'snapshot']);
    expect(unheld.code, unheld.stderr).toBe(0);
    expect(unheld.stderr).toMatch(/the WAL is not held[\s\S]*ALTER ROLE … REPLICATION/);
    const meta = JSON.parse(await readFile(path.join(fx.paths.snapshots, `${unheld.json.snapshot.name}.json`), 'utf8'));
    expect(meta.postgres.wal).toMatchObject({ held: 'none', label: 'own' });
    await server.query('alter role snap replication');
    const held = await run(['--json', 'snapshot']);
    expect(held.code, held.stderr).toBe(0);
    const meta2 = JSON.parse(await readFile(path.join(fx.paths.snapshots, `${held.json.snapshot.name}.json`), 'utf8'));
    expect(meta2.postgres.wal.held).toBe('slot');
  }, 90_000);
});
