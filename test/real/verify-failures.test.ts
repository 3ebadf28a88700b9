// verify's failure paths: corruption found by pg_amcheck, a snapshot without a cluster, a server of the
// wrong major version, incomplete or unknown names. Each failure names the failing check, exits 1 (or 2
// for bad names), and still leaves no clone, no private directory and no clone server behind.
import { describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { chmod, mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { sh } from '../helpers/host.js';
import { PG_BIN, skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite, scratchSuite } from '../helpers/suite.js';
import { cli, cliChild, cryptWithServer } from '../helpers/snap.js';
import { reconfigure, type CryptFixture } from '../helpers/crypt-fixture.js';

const scratches = scratchSuite();
let scratch: Scratch | undefined;

/**
 * PIDs of the clone servers of this crypt (a postmaster's command line names its clone; the backends die
 * with it). Scoped to `root`: other test files, run in parallel, verify their own crypts.
 */
async function cloneProcesses(root: string): Promise<number[]> {
  const found: number[] = [];
  for (const pid of (await readdir('/proc')).filter((d) => /^\d+$/.test(d))) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(`${root}/.staging-verify-`)) found.push(Number(pid));
  }
  return found;
}

/**
 * A private $TMPDIR for this test's verify runs (in-process and child), so the check that verify removed
 * its private directory does not see other tests' directories. Vitest runs each file in its own worker.
 */
async function privateTmp(s: Scratch): Promise<string> {
  const dir = s.path('tmp');
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755); // the clone server (postgres) must reach its socket directory inside
  const old = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  s.defer(() => {
    if (old === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = old;
  });
  return dir;
}

async function expectNoLeftovers(fx: CryptFixture, tmp: string): Promise<void> {
  expect((await readdir(fx.root)).filter((n) => n.startsWith('.staging-'))).toEqual([]);
  expect(await readdir(tmp)).toEqual([]);
  expect(await cloneProcesses(fx.root)).toEqual([]);
}

/** Makes the snapshot writable, lets `damage` change it, and makes it read-only again. */
async function damage(fx: CryptFixture, name: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = path.join(fx.paths.snapshots, name);
  sh(['btrfs', 'property', 'set', '-ts', dir, 'ro', 'false']);
  await fn(dir);
  sh(['btrfs', 'property', 'set', '-ts', dir, 'ro', 'true']);
}

const skip15 = skipReason('root', 'btrfs', 'loop', 'pg15');
describe.skipIf(skip15)('verify failures (PostgreSQL 15)', () => {
  test('a corrupted heap page: the clone starts, pg_amcheck finds it, exit 1; live server untouched; cleanup', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    await server.query('create table t (id int primary key, v text)');
    await server.query('insert into t select g, md5(g::text) from generate_series(1, 5000) g');
    // Freeze and checkpoint first: no later change to t, so no full-page image in the WAL after the
    // snapshot's checkpoint could repair the damaged page during the clone's crash recovery.
    await server.query('vacuum freeze t');
    await server.query('checkpoint');
    const rel = (await server.query('select pg_relation_filepath($1) as p', ['t']))[0]!.p as string;
    const snap = await cli(fx.root, ['--json', 'snapshot']);
    expect(snap.code, snap.stderr).toBe(0);
    const name = snap.json.snapshot.name as string;
    await damage(fx, name, async (dir) => {
      const f = await open(path.join(dir, 'postgres', rel), 'r+');
      // Page 2: overwrite the first tuples' headers (from pd_upper on) with 0xff: an xmin from the future
      // and impossible infomask bits, which verify_heapam reports.
      const header = Buffer.alloc(24);
      await f.read(header, 0, 24, 8192 * 2);
      await f.write(Buffer.alloc(600, 0xff), 0, 600, 8192 * 2 + header.readUInt16LE(14));
      await f.close();
    });
    const tmp = await privateTmp(scratch);

    const r = await cli(fx.root, ['--json', 'verify', name]);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect(r.json).toMatchObject({ name, ok: false });
    const byName = Object.fromEntries(r.json.checks.map((c: { name: string; ok: boolean | null }) => [c.name, c.ok]));
    expect(byName).toMatchObject({ start: true, recovered: true, query: true, amcheck: false });
    expect(r.json.checks.find((c: { name: string }) => c.name === 'amcheck').detail).toMatch(/pg_amcheck reported problems/);
    await expectNoLeftovers(fx, tmp);

    const h = await cli(fx.root, ['verify', name]);
    expect(h.code).toBe(1);
    expect(h.stdout).toMatch(/FAILED[\s\S]*FAIL\s+amcheck: pg_amcheck reported problems/);
    expect(server.isRunning()).toBe(true);
    expect((await server.query('select count(*)::int as n from t'))[0]!.n).toBe(5000);
    await expectNoLeftovers(fx, tmp);
  });

  test('a snapshot without its cluster: the pgdata check fails, exit 1, clone removed', async () => {
    scratch = await scratches.scratch();
    const { fx } = await cryptWithServer(scratch, 15);
    const name = (await cli(fx.root, ['--json', 'snapshot'])).json.snapshot.name as string;
    await damage(fx, name, (dir) => rm(path.join(dir, 'postgres'), { recursive: true }));
    const tmp = await privateTmp(scratch);
    const r = await cli(fx.root, ['--json', 'verify', name]);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect(r.json.checks).toEqual([expect.objectContaining({ name: 'pgdata', ok: false, detail: expect.stringMatching(/no PostgreSQL cluster at postgres\/ \(PG_VERSION missing\)/) })]);
    await expectNoLeftovers(fx, tmp);
  });

  test('a crypt path with a space verifies; one with a $ is refused before anything starts (pg_ctl uses sh)', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    const name = (await cli(fx.root, ['--json', 'snapshot'])).json.snapshot.name as string;
    const s = scratch;
    const tmp = await privateTmp(s);
    for (const alias of ['my crypt', 'cost$HOME']) {
      const at = s.path(alias);
      await mkdir(at);
      sh(['mount', '--bind', fx.root, at]);
      s.defer(() => {
        try {
          sh(['umount', at]);
        } catch {
          /* the sweep retries */
        }
      });
    }
    // Registered at each alias in turn (the same filesystem and root directory, as a re-run of init would record).
    await reconfigure(fx, { ...fx.config, crypt: { ...fx.config.crypt, path: s.path('my crypt') } });
    const ok = await cli(s.path('my crypt'), ['--json', 'verify', name]);
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    await reconfigure(fx, { ...fx.config, crypt: { ...fx.config.crypt, path: s.path('cost$HOME') } });
    const bad = await cli(s.path('cost$HOME'), ['--json', 'verify', name]);
    expect(bad.code).toBe(1);
    expect(bad.json.checks.find((c: { name: string }) => c.name === 'start').detail).toMatch(/contains a quote, \$/);
    await expectNoLeftovers(fx, tmp);
    expect(server.isRunning()).toBe(true);
  });

  test('incomplete, unknown and path-like names exit 2 and create nothing', async () => {
    scratch = await scratches.scratch();
    const { fx } = await cryptWithServer(scratch, 15);
    const name = (await cli(fx.root, ['--json', 'snapshot'])).json.snapshot.name as string;
    // An interrupted snapshot: the subvolume is there, its metadata is not.
    const incomplete = `${name.slice(0, 8)}T000000Z-incomplete`;
    sh(['btrfs', 'subvolume', 'snapshot', '-r', fx.paths.active, path.join(fx.paths.snapshots, incomplete)]);
    for (const bad of [incomplete, 'nope', '../active', `${name}/..`, '']) {
      const r = await cli(fx.root, ['verify', bad]);
      expect(r.code, `${bad}: ${r.stderr}`).toBe(2);
      expect(r.stdout).toBe('');
    }
    expect((await readdir(fx.root)).filter((n) => n.startsWith('.staging-'))).toEqual([]);
  });
});

for (const version of [15, 14] as const) {
  const skipLoad = skipReason('root', 'btrfs', 'loop', `pg${version}`);
  describe.skipIf(skipLoad)(`verify a snapshot taken under concurrent writes (PostgreSQL ${version})`, () => {
    test('writers keep committing through the Ritual: the snapshot recovers (and passes pg_amcheck where installed)', async () => {
      scratch = await scratches.scratch();
      const { fx, server } = await cryptWithServer(scratch, version);
      await server.query('create table w (id bigserial primary key, wr int, v text, at timestamptz default now())');
      await server.query('create index on w (v)');
      let stop = false;
      // Each writer updates only its own rows: concurrent, but never deadlocking with the others.
      const writers = [0, 1, 2].map(async (wr) => {
        const c = await server.connect();
        try {
          let n = 0;
          while (!stop) {
            await c.query('insert into w (wr, v) select $1, md5(random()::text) from generate_series(1, 200)', [wr]);
            if (++n % 10 === 0) await c.query('update w set v = md5(v) where wr = $1 and id % 97 = $2', [wr, n % 97]);
          }
          return n;
        } finally {
          await c.end();
        }
      });
      let snap;
      try {
        await sleep(300);
        snap = await cli(fx.root, ['--json', 'snapshot', '--label', 'under load']);
        await sleep(200);
      } finally {
        stop = true; // even when the snapshot throws: the writers must end before the server is cleaned up
      }
      const rounds = await Promise.all(writers);
      expect(snap.code, snap.stderr).toBe(0);
      expect(rounds.every((n) => n > 0)).toBe(true);

      const tmp = await privateTmp(scratch);
      const r = await cli(fx.root, ['--json', 'verify', snap.json.snapshot.name]);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      const byName = Object.fromEntries(r.json.checks.map((c: { name: string; ok: boolean | null }) => [c.name, c.ok]));
      expect(byName).toMatchObject({ start: true, recovered: true, 'system-identifier': true, query: true, amcheck: version === 15 ? true : null });
      await expectNoLeftovers(fx, tmp);
      expect(server.isRunning()).toBe(true);
    });
  });
}

const skip1415 = skipReason('root', 'btrfs', 'loop', 'pg14', 'pg15');
describe.skipIf(skip1415)('verify with the wrong PostgreSQL version', () => {
  test('a PG 14 snapshot with postgres.bin of PG 15: the version check fails, names both, exit 1', async () => {
    scratch = await scratches.scratch();
    const { fx } = await cryptWithServer(scratch, 14);
    const name = (await cli(fx.root, ['--json', 'snapshot'])).json.snapshot.name as string;
    await reconfigure(fx, { ...fx.config, postgres: { ...fx.config.postgres!, bin: PG_BIN[15] } });
    const tmp = await privateTmp(scratch);
    const r = await cli(fx.root, ['--json', 'verify', name]);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    const c = r.json.checks.find((x: { name: string }) => x.name === 'version');
    expect(c).toMatchObject({ ok: false });
    expect(c.detail).toMatch(/PostgreSQL 14 cluster.*PostgreSQL 15/);
    await expectNoLeftovers(fx, tmp);
  });
});

describe.skipIf(skip15)('verify interrupted by a signal (bundled runtime)', () => {
  const suite = cliSuite();

  test('killed with SIGKILL: repair stops the orphaned clone server before deleting the clone', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    const name = (await cli(fx.root, ['--json', 'snapshot'])).json.snapshot.name as string;
    const tmp = await privateTmp(scratch);
    const killed = await cliChild(suite.bundle, fx.root, ['verify', name], { LYCHD_CRYPT_FAULT: 'verify:after-start', TMPDIR: tmp });
    expect(killed.signal).toBe('SIGKILL');
    expect(await cloneProcesses(fx.root)).not.toEqual([]);
    const doctor = await cli(fx.root, ['--json', 'doctor']);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/stray staging .*\.staging-verify-/);
    const r = await cli(fx.root, ['repair', '--yes']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    await expectNoLeftovers(fx, tmp);
    expect(server.isRunning()).toBe(true);
  });

  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    test(`${sig} while the clone server runs: clone, its server and private dir removed, then killed by ${sig}`, async () => {
      scratch = await scratches.scratch();
      const { fx, server } = await cryptWithServer(scratch, 15);
      // Enough rows that pg_amcheck --heapallindexed keeps the clone up for a while to catch it.
      await server.query('create table t (id int primary key, v text)');
      await server.query('insert into t select g, md5(g::text) from generate_series(1, 300000) g');
      const name = (await cli(fx.root, ['--json', 'snapshot'])).json.snapshot.name as string;
      const tmp = await privateTmp(scratch);

      const child = spawn('node', [suite.bundle, '--crypt', fx.root, 'verify', name], { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmp } });
      let output = '';
      child.stdout.on('data', (d) => (output += String(d)));
      child.stderr.on('data', (d) => (output += String(d)));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.on('close', (code, signal) => resolve({ code, signal })),
      );
      // Wait until the clone's own postmaster says "ready" (line 8 of postmaster.pid).
      let ready = false;
      for (let i = 0; i < 3000 && !ready; i++) {
        const clones = (await readdir(fx.root)).filter((n) => n.startsWith('.staging-verify-'));
        for (const c of clones) {
          const pid = await readFile(path.join(fx.root, c, 'postgres/postmaster.pid'), 'utf8').catch(() => '');
          // Line 2 is the data directory: the live server's own file is in the clone until verify removes it.
          const lines = pid.split('\n');
          if (lines[1]?.includes('.staging-verify-') && /^ready/.test(lines[7] ?? '')) ready = true;
        }
        if (!ready) await sleep(5);
      }
      expect(ready).toBe(true);
      expect(await cloneProcesses(fx.root), output).not.toEqual([]);
      child.kill(sig);
      const end = await exited;
      expect(end.signal, `${JSON.stringify(end)}\n${output}`).toBe(sig);
      await expectNoLeftovers(fx, tmp);
      expect(server.isRunning()).toBe(true);
    });
  }
});
