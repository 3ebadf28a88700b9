// verify: a throwaway clone of a snapshot starts, recovers and passes its checks (pg_amcheck on PG15),
// then disappears; the live server, active/ and the snapshot are untouched.
import { describe, expect, test } from 'vitest';
import { appendFile, chown, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ids, sh } from '../helpers/host.js';
import { skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite, scratchSuite } from '../helpers/suite.js';
import { makeCryptFixture } from '../helpers/crypt-fixture.js';
import { cli, cliChild, cryptWithServer } from '../helpers/snap.js';

const scratches = scratchSuite();
let scratch: Scratch | undefined;

for (const version of [15, 14, 18] as const) {
  const skip = skipReason('root', 'btrfs', 'loop', `pg${version}`);
  describe.skipIf(skip)(`verify on PostgreSQL ${version} ${skip ? `(skipped: ${skip})` : ''}`, () => {
    test('a bracket snapshot taken under writes verifies; the clone is gone afterwards', async () => {
      scratch = await scratches.scratch();
      const { fx, server } = await cryptWithServer(scratch, version);
      await server.query('create table t (id int primary key, v text)');
      await server.query("insert into t select g, md5(g::text) from generate_series(1, 20000) g");
      await server.query('create index on t (v)');
      const snap = await cli(fx.root, ['--json', 'snapshot']);
      expect(snap.code, snap.stderr).toBe(0);
      const name = snap.json.snapshot.name as string;

      const r = await cli(fx.root, ['--json', 'verify', name]);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(r.json.ok).toBe(true);
      const byName = Object.fromEntries(r.json.checks.map((c: { name: string; ok: boolean | null }) => [c.name, c.ok]));
      expect(byName).toMatchObject({ start: true, recovered: true, 'system-identifier': true, query: true });
      expect(byName.amcheck).toBe(version === 15 ? true : null);

      expect((await readdir(fx.root)).filter((n) => n.startsWith('.staging-'))).toEqual([]);
      expect(server.isRunning()).toBe(true);
      expect((await server.query('select count(*)::int as n from t'))[0]!.n).toBe(20000);
      const h = await cli(fx.root, ['verify', name]);
      expect(h.stdout).toMatch(new RegExp(`^verify ${name}: restorable`));
      expect((await cli(fx.root, ['verify', 'nope'])).code).toBe(2);
    });

    test("the snapshot's own settings never lead the clone to the live server's files", async () => {
      scratch = await scratches.scratch();
      const livePid = scratch.path('live-external.pid');
      const { fx, server } = await cryptWithServer(scratch, version);
      server.stop('fast');
      await appendFile(path.join(fx.pgdata, 'postgresql.conf'), `data_directory = '${fx.pgdata}'\nexternal_pid_file = '${livePid}'\n`);
      const pg = ids('postgres');
      await writeFile(livePid, '');
      await chown(livePid, pg.uid, pg.gid);
      server.start();
      const before = await readFile(livePid, 'utf8');
      expect(before).toMatch(/^\d+/);
      const snap = await cli(fx.root, ['--json', 'snapshot']);
      expect(snap.code, snap.stderr).toBe(0);
      const r = await cli(fx.root, ['--json', 'verify', snap.json.snapshot.name]);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(await readFile(livePid, 'utf8')).toBe(before);
      expect(server.isRunning()).toBe(true);
    });

    test('a broken snapshot fails verify with the reason; the clone is still removed', async () => {
      scratch = await scratches.scratch();
      const { fx } = await cryptWithServer(scratch, version);
      const snap = await cli(fx.root, ['--json', 'snapshot']);
      const name = snap.json.snapshot.name as string;
      const dir = path.join(fx.paths.snapshots, name);
      sh(['btrfs', 'property', 'set', '-ts', dir, 'ro', 'false']);
      await rm(path.join(dir, 'postgres/global/pg_control'));
      sh(['btrfs', 'property', 'set', '-ts', dir, 'ro', 'true']);
      const r = await cli(fx.root, ['verify', name]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/FAILED[\s\S]*FAIL\s+start: the clone did not start[\s\S]*pg_control/);
      const j = await cli(fx.root, ['--json', 'verify', name]);
      expect(j.code).toBe(1);
      expect(j.json).toMatchObject({ name, ok: false, checks: [expect.objectContaining({ name: 'start', ok: false })] });
      expect((await readdir(fx.root)).filter((n) => n.startsWith('.staging-'))).toEqual([]);
    });
  });
}

const skip15 = skipReason('root', 'btrfs', 'loop', 'pg15');
describe.skipIf(skip15)('verify killed while its clone runs', () => {
  const suite = cliSuite();

  test('the next verify stops the orphaned clone server and deletes the clone', async () => {
    scratch = await scratches.scratch();
    const { fx } = await cryptWithServer(scratch, 15);
    const name = (await cli(fx.root, ['--json', 'snapshot'])).json.snapshot.name as string;
    const killed = await cliChild(suite.bundle, fx.root, ['verify', name], { LYCHD_CRYPT_FAULT: 'verify:after-start' });
    expect(killed.signal).toBe('SIGKILL');
    const left = (await readdir(fx.root)).filter((n) => n.startsWith('.staging-verify-'));
    expect(left).toHaveLength(1);
    const pid = Number((await readFile(path.join(fx.root, left[0]!, 'postgres/postmaster.pid'), 'utf8')).split('\n')[0]);
    expect(() => process.kill(pid, 0)).not.toThrow();

    const again = await cli(fx.root, ['--json', 'verify', name]);
    expect(again.code, again.stderr + again.stdout).toBe(0);
    expect(again.stderr).toMatch(/removed the leftover verify clone .* \(and stopped its server\)/);
    expect((await readdir(fx.root)).filter((n) => n.startsWith('.staging-'))).toEqual([]);
    const alive = await readFile(`/proc/${pid}/stat`, 'utf8').then((t) => !/\) Z /.test(t), () => false);
    expect(alive).toBe(false);
  });
});

describe.skipIf(skip15)('verify a cluster whose configuration lives outside PGDATA', () => {
  test('no postgresql.conf in the snapshot (Debian style): the clone starts on defaults', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    server.stop('fast');
    await rm(path.join(fx.pgdata, 'postgresql.conf'));
    await rm(path.join(fx.pgdata, 'pg_ident.conf'));
    const snap = await cli(fx.root, ['--json', 'snapshot']);
    expect(snap.json.snapshot.mode).toBe('cold');
    const r = await cli(fx.root, ['--json', 'verify', snap.json.snapshot.name]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.json.checks.find((c: { name: string }) => c.name === 'config')).toMatchObject({ ok: null });
    expect(r.json.checks.find((c: { name: string }) => c.name === 'amcheck')).toMatchObject({ ok: true });
  });
});

const skipNone = skipReason('root', 'btrfs', 'loop');
describe.skipIf(skipNone)('verify without a database', () => {
  test('mode none: nothing to start, still ok', async () => {
    scratch = await scratches.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    const snap = await cli(fx.root, ['--json', 'snapshot']);
    const r = await cli(fx.root, ['--json', 'verify', snap.json.snapshot.name]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.checks).toEqual([expect.objectContaining({ name: 'readable', ok: true }), expect.objectContaining({ name: 'postgres', ok: null })]);
  });
});
