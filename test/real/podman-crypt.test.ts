// LychD's own deployment, end to end with real rootless Podman (test/helpers/podman.ts): PostgreSQL 15 in
// the owner's container (keep-id, `--user 999:999`, the data mounted `:U`, scram password from a Podman
// secret, TCP on a loopback address), its PGDATA on the crypt belonging to the owner's subordinate uid.
// Root runs init once; everything after runs as the owner, without root: the container's first start over the
// empty nocow PGDATA init prepared, a snapshot under pgbench, rollback and its undo (podman stop/start),
// verify (the clone in a container of the same image), doctor, a failing guarded run, repair's nocow
// rewrite, and a rollback killed mid-way recovered by the next command. The tool reaches PGDATA only inside
// the owner's user namespace: PGDATA keeps its owner throughout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { PG_BIN, skipReason } from '../helpers/env.js';
import { sh } from '../helpers/host.js';
import { cliAs } from '../helpers/as-user.js';
import { writeAnswers } from '../helpers/init.js';
import { runPgbench } from '../helpers/pg.js';
import { makeScratch, type Scratch } from '../helpers/scratch.js';
import type { PgContainer } from '../helpers/podman.js';
import { expectMappedOwner, initPodmanCrypt, type PodmanCrypt } from '../helpers/podman-crypt.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15', 'pgbench', 'podman');

describe.skipIf(skip)(`PostgreSQL in the owner's rootless Podman container ${skip ? `(skipped: ${skip})` : ''}`, () => {
  let scratch: Scratch;
  let pc: PodmanCrypt;
  let c: PgContainer;
  const rows = async () => (await c.query<{ v: string }>('select v from marker order by v')).map((r) => r.v);
  const psql = (sql: string) => [path.join(PG_BIN[15], 'psql'), '-h', pc.address, '-p', String(pc.port), '-U', 'lich', '-d', 'lychd', '-w', '-X', '-v', 'ON_ERROR_STOP=1', '-c', sql];

  beforeAll(async () => {
    scratch = await makeScratch();
    pc = await initPodmanCrypt(scratch, { version: 15 });
  }, 240_000);
  afterAll(async () => scratch?.cleanup(), 120_000);

  it('init prepares an empty nocow PGDATA of the owner and records the container; the rootless profile', async () => {
    const st = await stat(pc.pgdata);
    expect({ uid: st.uid, mode: st.mode & 0o777 }).toEqual({ uid: pc.owner.user.uid, mode: 0o700 });
    expect(sh(['lsattr', '-d', pc.pgdata])).toMatch(/^\S*C/);
    const entry = JSON.parse(readFileSync(path.join(process.env.LYCHD_CRYPT_REGISTRY!, `${pc.owner.user.name}.json`), 'utf8').toString());
    expect(entry.config.profile).toBe('rootless');
    expect(entry.config.postgres).toMatchObject({
      container: { engine: 'podman', name: 'lychd-phylactery' },
      service: { kind: 'container' },
      osUser: '999',
      uid: pc.owner.hostUid(999),
      gid: pc.owner.hostGid(999),
    });
    // No password anywhere in what init wrote: only the secret's name.
    expect(JSON.stringify(entry)).toContain(pc.secret);
  });

  it("the container's first start takes the empty PGDATA (`:U`): its files are the mapped uid's", async () => {
    c = await pc.owner.startPostgres({ version: 15, dataDir: pc.pgdata, address: pc.address, port: pc.port });
    await c.query('create table marker (v text)');
    await c.query("insert into marker values ('A')");
    await expectMappedOwner(pc);
    // The owner itself cannot read it; the tool reaches it inside the owner's user namespace.
    expect((await pc.owner.run(['cat', path.join(pc.pgdata, 'PG_VERSION')], { check: false })).stderr).toMatch(/Permission denied/);
  }, 120_000);

  it('init again on the cluster: the mapping agrees, nothing changes (PGDATA is not given back to the owner); another uid is refused', async () => {
    const again = await cliAs(null, pc.bundle, ['--json', 'init', '--answers', pc.answers, '--yes']);
    expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
    await expectMappedOwner(pc);
    const wrong = writeAnswers(scratch, { ...pc.answersOf, postgres: { ...(pc.answersOf.postgres as object), osUser: 1000 } }, 'wrong-uid.yaml');
    const refused = await cliAs(null, pc.bundle, ['init', '--answers', wrong, '--yes']);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toContain(`belongs to host ${pc.owner.hostUid(999)}:${pc.owner.hostGid(999)} (container 999:999), but container uid 1000 is host uid ${pc.owner.hostUid(1000)}`);
    await expectMappedOwner(pc);
  }, 120_000);

  it('root running a runtime command acts as the owner, who reaches PGDATA in its namespace', async () => {
    const snap = await cliAs(null, pc.bundle, ['--crypt', pc.root, '--json', 'snapshot', '--label', 'by-root']);
    expect(snap.code, snap.stderr).toBe(0);
    expect(snap.json.snapshot.mode).toBe('bracket');
    expect((await stat(path.join(pc.root, 'snapshots', snap.json.snapshot.name))).uid).toBe(pc.owner.user.uid);
  }, 120_000);

  it('a snapshot under pgbench: bracket mode, no failed transaction', async () => {
    const env = { PGPASSWORD: c.password };
    const conn = ['-h', pc.address, '-p', String(pc.port), '-U', 'lich'];
    expect((await runPgbench(['-i', '-s', '2', '-q', ...conn, 'lychd'], env)).code).toBe(0);
    const bench = runPgbench(['-c', '4', '-j', '2', '-T', '8', '--no-vacuum', ...conn, 'lychd'], env);
    await new Promise((r) => setTimeout(r, 1500));
    const snap = await pc.cli(['--json', 'snapshot', '--label', 'base']);
    expect(snap.code, snap.stderr).toBe(0);
    expect(snap.json.snapshot.mode).toBe('bracket');
    expect(snap.json.snapshot.postgres.systemIdentifier).toMatch(/^\d+$/);
    const b = await bench;
    expect(b.code, b.out).toBe(0);
    expect(b.out).toMatch(/number of failed transactions: 0 /);
  }, 120_000);

  it('rollback and undo through podman stop/start: rows as expected, the server up, PGDATA still the mapped uid\'s', async () => {
    const base = (await pc.cli(['--json', 'list'])).json.snapshots.find((s: { label: string }) => s.label === 'base').name as string;
    await c.query("insert into marker values ('B')");
    const pid = (await c.inspect()).State.Pid;
    const back = await pc.cli(['--json', 'rollback', base, '--yes']);
    expect(back.code, back.stderr).toBe(0);
    expect(back.json.databaseRestarted).toBe(true);
    expect((await c.inspect()).State.Pid).not.toBe(pid); // stopped and started again
    expect(await rows()).toEqual(['A']);
    expect((await c.query<{ r: boolean }>('select pg_is_in_recovery() as r'))[0]!.r).toBe(false);
    await expectMappedOwner(pc);

    const undo = await pc.cli(['--json', 'rollback', back.json.preRollback, '--yes']);
    expect(undo.code, undo.stderr).toBe(0);
    expect(await rows()).toEqual(['A', 'B']);
    await expectMappedOwner(pc);
  }, 180_000);

  it('verify runs the clone in a container of the same image, pg_amcheck from it', async () => {
    const base = (await pc.cli(['--json', 'list'])).json.snapshots.find((s: { label: string }) => s.label === 'base').name as string;
    const v = await pc.cli(['--json', 'verify', base]);
    expect(v.code, `${v.stdout}\n${v.stderr}`).toBe(0);
    const checks = Object.fromEntries((v.json.checks as { name: string; ok: boolean | null; detail: string }[]).map((k) => [k.name, k]));
    expect(checks.recovered!.ok).toBe(true);
    expect(checks.amcheck!.ok).toBe(true);
    expect(checks.amcheck!.detail).toMatch(/image's pg_amcheck/);
    expect(checks.image!.detail).toContain('localhost/lychd-test-postgres:15');
    // Nothing of the clone is left: no verify container, no clone.
    expect((await pc.owner.podman(['ps', '-a', '--format', '{{.Names}}'])).stdout).not.toMatch(/lychd-crypt-verify/);
    expect(sh(['ls', '-A', pc.root])).not.toMatch(/staging-verify/);
  }, 180_000);

  it('a verify killed while its clone runs leaves its container; the next verify removes it with its clone', async () => {
    const base = (await pc.cli(['--json', 'list'])).json.snapshots.find((s: { label: string }) => s.label === 'base').name as string;
    const killed = await pc.cli(['verify', base], { LYCHD_CRYPT_FAULT: 'verify:after-start' });
    expect(killed.code).not.toBe(0);
    expect((await pc.owner.podman(['ps', '-a', '--format', '{{.Names}}'])).stdout).toMatch(/lychd-crypt-verify-/);
    const v = await pc.cli(['--json', 'verify', base]);
    expect(v.code, `${v.stdout}\n${v.stderr}`).toBe(0);
    expect(v.stderr).toMatch(/removed the leftover verify container lychd-crypt-verify-\w+/);
    expect(v.stderr).toMatch(/removed the leftover verify clone/);
    expect((await pc.owner.podman(['ps', '-a', '--format', '{{.Names}}'])).stdout).not.toMatch(/lychd-crypt-verify/);
    expect(sh(['ls', '-A', pc.owner.runtimeDir])).not.toMatch(/lychd-verify-/);
  }, 180_000);

  it('doctor is healthy and shows the mapping', async () => {
    const d = await pc.cli(['doctor']);
    expect(d.code, d.stdout + d.stderr).toBe(0);
    expect(d.stdout).not.toMatch(/\[BAD\]/);
    expect(d.stdout).toContain(`container uid 999 is host uid ${pc.owner.hostUid(999)}`);
  }, 120_000);

  it('a failing guarded run is rolled back; the server runs', async () => {
    // The change writes a row (as the owner, with its ~/.pgpass), then fails.
    const r = await pc.cli(['--json', 'run', '--', 'sh', '-c', '"$@" && exit 3', 'sh', ...psql("insert into marker values ('bad')")]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.json).toMatchObject({ rolledBack: true, failure: { kind: 'command', exitCode: 3 } });
    expect(await rows()).toEqual(['A', 'B']);
    await expectMappedOwner(pc);
  }, 180_000);

  it("repair rewrites PGDATA without C inside the owner's namespace: owners and modes kept, rows intact", async () => {
    await c.stop();
    // A hand copy into a directory without C, as the owner can make one: in its own namespace.
    const old = `${pc.pgdata}.old`;
    await pc.owner.podman(['unshare', 'sh', '-c', 'mv "$1" "$2" && mkdir -m 700 "$1" && chown 1000:1000 "$1" && cp -a --reflink=never -- "$2/." "$1/" && rm -rf "$2"', 'sh', pc.pgdata, old]);
    expect(sh(['lsattr', '-d', path.join(pc.pgdata, 'global/pg_control')])).not.toMatch(/^\S*C/);
    await c.start();
    const found = await pc.cli(['--json', 'doctor']);
    expect(found.code).toBe(1);
    expect(found.json.checks.find((k: { id: string }) => k.id === 'pgdata.nocow').status).toBe('problem');

    const fixed = await pc.cli(['--json', 'repair', '--yes']);
    expect(fixed.code, `${fixed.stdout}\n${fixed.stderr}`).toBe(0);
    expect(sh(['lsattr', '-d', path.join(pc.pgdata, 'global/pg_control')])).toMatch(/^\S*C/);
    await expectMappedOwner(pc);
    expect(await c.isRunning()).toBe(true);
    expect(await rows()).toEqual(['A', 'B']);
    const again = await pc.cli(['doctor']);
    expect(again.code, again.stdout).toBe(0);
  }, 240_000);

  it("a rollback killed after the swap is finished by the owner's next command", async () => {
    const snap = await pc.cli(['--json', 'snapshot', '--label', 'k']);
    expect(snap.code, snap.stderr).toBe(0);
    await c.query("insert into marker values ('C')");
    const killed = await pc.cli(['rollback', snap.json.snapshot.name, '--yes'], { LYCHD_CRYPT_FAULT: 'rollback:swapped' });
    expect(killed.code).not.toBe(0);
    expect(await c.isRunning()).toBe(false); // stopped before the swap; nothing started it on the swapped files
    const next = await pc.cli(['--json', 'snapshot', '--label', 'after-crash']);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/recovered: finished the interrupted rollback/);
    expect(await rows()).toEqual(['A', 'B']);
    expect((await c.query<{ r: boolean }>('select pg_is_in_recovery() as r'))[0]!.r).toBe(false);
    await expectMappedOwner(pc);
    // The helper of the killed command ended with it: no process of the tool is left in the owner's namespace.
    expect(sh(['ps', '-eo', 'args']).split('\n').filter((l) => l.includes('__userns-helper'))).toEqual([]);
  }, 240_000);

  it('no password in the state the tool keeps', async () => {
    for (const f of sh(['find', path.join(pc.owner.user.home, '.local/state/lychd-crypt'), '-type', 'f']).trim().split('\n').filter(Boolean)) {
      expect(await readFile(f, 'utf8'), f).not.toContain(c.password);
    }
  });
});
