// A rollback killed (SIGKILL) right after each of its steps, then healed by the next mutating command
// or `repair`: active/ is wholly the old or wholly the new state (files and database agree), the
// database runs again and is out of recovery, no staging subvolume is left, the journal is clear.
import { describe, expect, test } from 'vitest';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { skipReason } from '../helpers/env.js';
import { cliSuite, scratchSuite } from '../helpers/suite.js';
import { sh } from '../helpers/host.js';
import { serverCrypt } from '../helpers/scenes.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');
const scratches = scratchSuite();

/** Fault points in order; those before the swap are undone, those after it are finished. */
const POINTS: { point: string; after: 'old' | 'new' }[] = [
  { point: 'rollback:journal', after: 'old' },
  { point: 'rollback:stop', after: 'old' },
  { point: 'rollback:stage', after: 'old' },
  { point: 'rollback:clean', after: 'old' },
  { point: 'rollback:prepare', after: 'old' },
  { point: 'rollback:swap', after: 'new' },
  { point: 'rollback:swapped', after: 'new' },
  { point: 'rollback:keep-moved', after: 'new' },
  { point: 'rollback:keep-ro', after: 'new' },
  { point: 'rollback:keep', after: 'new' },
  { point: 'rollback:start', after: 'new' },
  { point: 'rollback:done', after: 'new' },
];

describe.skipIf(skip)(`rollback crash safety ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('SIGKILL after every step, then snapshot / repair / rollback: whole and consistent', async () => {
    const { fx, server, run } = await serverCrypt(scratches, suite.bundle, 15);
    const marker = path.join(fx.paths.active, 'app', 'marker.txt');
    await mkdir(path.dirname(marker));
    await server.query('create table t (v text)');
    await server.query("insert into t values ('A')");
    await writeFile(marker, 'A');
    const snap = await run(['--json', 'snapshot', '--label', 'base']);
    expect(snap.code, snap.stderr).toBe(0);
    const target: string = snap.json.snapshot.name;

    const rows = async () => (await server.query<{ v: string }>('select v from t order by v')).map((r) => r.v).join(',');
    const healers: string[][] = [['--json', 'snapshot', '--label', 'heal'], ['--json', 'repair', '--yes'], ['--json', 'rollback', target, '--dry-run']];

    for (const [i, { point, after }] of POINTS.entries()) {
      // A live state that differs from the target: rows A + X<i>, and the marker file saying so.
      await server.query('delete from t where v <> $1', ['A']);
      await server.query('insert into t values ($1)', [`X${i}`]);
      const live = await rows();
      await writeFile(marker, live);

      const killed = await run(['rollback', target, '--yes'], { LYCHD_CRYPT_FAULT: point });
      expect(killed.signal, `${point}: ${killed.stderr}`).toBe('SIGKILL');

      // A dry run does not heal; the mutating commands do.
      const healer = healers[i % 2]!;
      const healed = await run(healer);
      expect(healed.code, `${point} healed by ${healer.join(' ')}: ${healed.stderr}${healed.stdout}`).toBe(0);
      await expect(readFile(fx.paths.journal), point).rejects.toThrow();
      expect((await readdir(fx.root)).filter((n) => n.startsWith('.staging')), point).toEqual([]);
      expect(sh(['btrfs', 'subvolume', 'list', '-o', fx.root]), point).not.toMatch(/\.staging/);
      expect(server.isRunning(), point).toBe(true);
      expect((await server.query('select pg_is_in_recovery() as r'))[0]!.r, point).toBe(false);
      const nowRows = await rows();
      expect(nowRows, point).toBe(after === 'old' ? live : 'A');
      expect(await readFile(marker, 'utf8'), point).toBe(nowRows);
      if (after === 'new') {
        // The replaced state was kept, read-only, with its metadata.
        const metas = (await readdir(fx.paths.snapshots)).filter((n) => n.endsWith('-pre-rollback.json'));
        expect(metas.length, point).toBeGreaterThan(0);
      }
      const names = await readdir(fx.paths.snapshots);
      const incomplete = names.filter((n) => !n.endsWith('.json') && !names.includes(`${n}.json`));
      expect(incomplete, point).toEqual([]);
    }
  }, 600_000);

  test('recovery itself killed (undo and finish paths), then run again: still whole and consistent', async () => {
    const { fx, server, run } = await serverCrypt(scratches, suite.bundle, 15);
    await server.query('create table t (v text)');
    await server.query("insert into t values ('A')");
    const snap = await run(['--json', 'snapshot']);
    expect(snap.code, snap.stderr).toBe(0);
    const target: string = snap.json.snapshot.name;
    const count = async () => (await server.query('select count(*)::int as n from t'))[0]!.n as number;
    const cases = [
      { point: 'rollback:prepare', recoverFault: 'rollback-recover:undone', rows: 2 },
      { point: 'rollback:prepare', recoverFault: 'rollback-recover:started', rows: 2 },
      { point: 'rollback:swap', recoverFault: 'rollback-recover:finished', rows: 1 },
      { point: 'rollback:keep-moved', recoverFault: 'rollback-recover:started', rows: 1 },
    ];
    for (const c of cases) {
      await server.query('delete from t');
      await server.query("insert into t values ('A'), ('B')");
      const killed = await run(['rollback', target, '--yes'], { LYCHD_CRYPT_FAULT: c.point });
      expect(killed.signal, c.point).toBe('SIGKILL');
      const half = await run(['repair', '--yes'], { LYCHD_CRYPT_FAULT: c.recoverFault });
      expect(half.signal, `${c.point} / ${c.recoverFault}: ${half.stderr}`).toBe('SIGKILL');
      const healed = await run(['--json', 'repair', '--yes']);
      expect(healed.code, `${c.point} / ${c.recoverFault}: ${healed.stderr}${healed.stdout}`).toBe(0);
      await expect(readFile(fx.paths.journal)).rejects.toThrow();
      expect((await readdir(fx.root)).filter((n) => n.startsWith('.staging'))).toEqual([]);
      expect(server.isRunning()).toBe(true);
      expect(await count(), `${c.point} / ${c.recoverFault}`).toBe(c.rows);
    }
  }, 600_000);

  test('a database that was stopped before the rollback stays stopped through a crash and its recovery', async () => {
    const { fx, server, run } = await serverCrypt(scratches, suite.bundle, 15);
    await server.query('create table t (v text)');
    const snap = await run(['--json', 'snapshot']);
    expect(snap.code, snap.stderr).toBe(0);
    await server.query("insert into t values ('B')");
    server.stop();
    for (const point of ['rollback:prepare', 'rollback:swap']) {
      const killed = await run(['rollback', snap.json.snapshot.name, '--yes'], { LYCHD_CRYPT_FAULT: point });
      expect(killed.signal, point).toBe('SIGKILL');
      const healed = await run(['--json', 'repair', '--yes']);
      expect(healed.code, `${point}: ${healed.stderr}${healed.stdout}`).toBe(0);
      expect(server.isRunning(), point).toBe(false);
      expect((await readdir(fx.root)).filter((n) => n.startsWith('.staging')), point).toEqual([]);
    }
    server.start();
    expect((await server.query('select count(*)::int as n from t'))[0]!.n).toBe(0);
  }, 300_000);
});
