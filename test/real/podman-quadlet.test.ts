// The same deployment as test/real/podman-crypt.test.ts, with the owner's PostgreSQL 18 container run by the
// user unit Quadlet would generate from LychD's lychd-phylactery.container (test/helpers/podman-quadlet.ts),
// under the real systemd of the namespace harness: `postgres.service: { kind: systemd, user: true }`. The unit
// has Restart=always; a rollback stops and starts it through systemctl and it never restarts the server on
// half-swapped files — also when the rollback is killed mid-way. Commands run as root inside the harness,
// which runs them as the owner.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PG_BIN, skipReason } from '../helpers/env.js';
import { sh } from '../helpers/host.js';
import { makeScratch, type Scratch } from '../helpers/scratch.js';
import { bootSystemd, type Container } from '../helpers/systemd.js';
import { cliIn, unitProps } from '../helpers/systemd-cli.js';
import { expectMappedOwner, initPodmanCrypt, type PodmanCrypt } from '../helpers/podman-crypt.js';
import { QUADLET_UNIT, startQuadletUnit } from '../helpers/podman-quadlet.js';

const skip = skipReason('root', 'systemd', 'btrfs', 'loop', 'pg15', 'pgbench', 'podman');

describe.skipIf(skip)(`PostgreSQL 18 in the owner's container run by a Quadlet-equivalent user unit ${skip ? `(skipped: ${skip})` : ''}`, () => {
  let scratch: Scratch;
  let pc: PodmanCrypt;
  let box: Container;
  const password = randomBytes(12).toString('hex');
  const run = (args: string[], env: Record<string, string> = {}) => cliIn(box, pc.bundle, ['--crypt', pc.root, '--json', ...args], env);
  const props = () => unitProps(box, QUADLET_UNIT, ['ActiveState', 'NRestarts', 'InvocationID'], pc.owner.user.name);
  const psql = (sql: string) => [path.join(PG_BIN[15], 'psql'), '-h', pc.address, '-p', String(pc.port), '-U', 'lich', '-d', 'lychd', '-w', '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql];
  /** A query from inside the harness (the server listens in its network namespace). */
  async function q(sql: string): Promise<string[]> {
    const r = await box.exec(psql(sql), { env: { PGPASSWORD: password } });
    if (r.code !== 0) throw new Error(`${sql}: ${r.stderr}`);
    return r.stdout.split('\n').filter(Boolean);
  }
  const rows = () => q('select v from marker order by v');
  const pgbench = (args: string[]) => box.exec([path.join(PG_BIN[15], 'pgbench'), '-h', pc.address, '-p', String(pc.port), '-U', 'lich', ...args, 'lychd'], { env: { PGPASSWORD: password }, timeoutMs: 300_000 });

  beforeAll(async () => {
    scratch = await makeScratch();
    // The harness shares only the scratch directory: the owner's home (its podman storage, the crypt) is there.
    const homes = scratch.path('homes');
    mkdirSync(homes, { mode: 0o755 });
    pc = await initPodmanCrypt(scratch, {
      version: 18,
      homes,
      owner: { cgroupManager: 'systemd' },
      listen: { address: '127.0.0.1', port: 5432 },
      service: { kind: 'systemd', unit: QUADLET_UNIT, user: true },
    });
    const u = pc.owner.user;
    await pc.owner.run(['sh', '-c', 'cat | podman secret create "$1" -', 'sh', pc.secret], { input: password });
    // The owner's own clients (a guarded run's psql) find the password where libpq looks.
    writeFileSync(path.join(u.home, '.pgpass'), `${pc.address}:${pc.port}:*:lich:${password}\n`, { mode: 0o600 });
    chownSync(path.join(u.home, '.pgpass'), u.uid, u.gid);
    await pc.owner.refreshMounts();
    box = await bootSystemd({ scratch });
  }, 300_000);
  afterAll(async () => scratch?.cleanup(), 180_000);

  it("the unit's first start over init's empty nocow PGDATA: PostgreSQL 18, PGDATA the mapped uid's", async () => {
    await startQuadletUnit(box, pc.owner, { name: 'lychd-phylactery', version: 18, dataDir: pc.pgdata, address: pc.address, port: pc.port, secret: pc.secret });
    // Type=notify through conmon is ready when the container runs, not when PostgreSQL answers (initdb first).
    await box.waitFor('PostgreSQL 18 to answer', async () => (await box.exec(psql('select 1'), { env: { PGPASSWORD: password } })).code === 0, 180_000);
    expect((await q("select current_setting('server_version_num')::int / 10000"))[0]).toBe('18');
    await q('create table marker (v text)');
    await q("insert into marker values ('A')");
    await expectMappedOwner(pc);
    expect(await props()).toMatchObject({ ActiveState: 'active', NRestarts: '0' });
  }, 240_000);

  it('a snapshot under pgbench (no failed transaction), rollback and undo through systemctl: Restart=always never fires', async () => {
    expect((await pgbench(['-i', '-s', '2', '-q'])).code).toBe(0);
    const bench = pgbench(['-c', '4', '-j', '2', '-T', '8', '--no-vacuum']);
    await new Promise((r) => setTimeout(r, 1500));
    const snap = await run(['snapshot', '--label', 'base']);
    expect(snap.code, snap.stderr).toBe(0);
    expect(snap.json.snapshot.mode).toBe('bracket');
    const b = await bench;
    expect(b.code, b.stdout + b.stderr).toBe(0);
    expect(b.stdout).toMatch(/number of failed transactions: 0 /);

    await q("insert into marker values ('B')");
    const before = await props();
    const back = await run(['rollback', snap.json.snapshot.name, '--yes']);
    expect(back.code, back.stderr).toBe(0);
    expect(back.json.databaseRestarted).toBe(true);
    const after = await props();
    expect(after).toMatchObject({ ActiveState: 'active', NRestarts: '0' });
    expect(after.InvocationID).not.toBe(before.InvocationID);
    expect(await rows()).toEqual(['A']);
    expect((await q('select pg_is_in_recovery()'))[0]).toBe('f');
    await expectMappedOwner(pc);

    const undo = await run(['rollback', back.json.preRollback, '--yes']);
    expect(undo.code, undo.stderr).toBe(0);
    expect(await props()).toMatchObject({ ActiveState: 'active', NRestarts: '0' });
    expect(await rows()).toEqual(['A', 'B']);
    await expectMappedOwner(pc);
  }, 300_000);

  it("verify: the clone in a container of the unit's image; doctor is healthy", async () => {
    const base = (await run(['list'])).json.snapshots.find((s: { label: string }) => s.label === 'base').name as string;
    const v = await run(['verify', base]);
    expect(v.code, `${v.stdout}\n${v.stderr}`).toBe(0);
    const checks = Object.fromEntries((v.json.checks as { name: string; ok: boolean | null; detail: string }[]).map((k) => [k.name, k]));
    expect(checks.recovered!.ok).toBe(true);
    expect(checks.amcheck!.ok).toBe(true);
    expect(checks.image!.detail).toContain('lychd-test-postgres:18');
    const d = await run(['doctor']);
    expect(d.code, d.stdout + d.stderr).toBe(0);
    expect(d.json.checks.find((k: { id: string }) => k.id === 'pgdata.container').finding).toContain(`container uid 999 is host uid ${pc.owner.hostUid(999)}`);
  }, 300_000);

  it("verify needs an explicit image only when the unit's container is gone", async () => {
    const base = (await run(['list'])).json.snapshots.find((s: { label: string }) => s.label === 'base').name as string;
    const user = ['systemctl', '--user', '-M', `${pc.owner.user.name}@`];
    await box.exec([...user, 'stop', QUADLET_UNIT], { check: true });
    try {
      const gone = await run(['verify', base]);
      expect(gone.code).toBe(1);
      expect(gone.stderr).toMatch(/the container lychd-phylactery is not there, so its image is not known/);
      expect(gone.stderr).toMatch(/--image IMAGE/);
      const given = await run(['verify', base, '--image', 'localhost/lychd-test-postgres:18']);
      expect(given.code, `${given.stdout}\n${given.stderr}`).toBe(0);
      expect(given.json.checks.find((k: { name: string }) => k.name === 'image').detail).toContain('localhost/lychd-test-postgres:18 (verify --image)');
    } finally {
      await box.exec([...user, 'start', QUADLET_UNIT], { check: true });
    }
    await box.waitFor('PostgreSQL to answer', async () => (await box.exec(psql('select 1'), { env: { PGPASSWORD: password } })).code === 0);
  }, 300_000);

  it('a failing guarded run is rolled back through the unit', async () => {
    const r = await run(['run', '--', 'sh', '-c', '"$@" && exit 3', 'sh', ...psql("insert into marker values ('bad')")]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.json).toMatchObject({ rolledBack: true, failure: { kind: 'command', exitCode: 3 } });
    expect(await props()).toMatchObject({ ActiveState: 'active', NRestarts: '0' });
    expect(await rows()).toEqual(['A', 'B']);
  }, 300_000);

  it("repair's nocow rewrite of the unit's cluster: owners and modes kept, the unit up again", async () => {
    const user = ['systemctl', '--user', '-M', `${pc.owner.user.name}@`];
    await box.exec([...user, 'stop', QUADLET_UNIT], { check: true });
    await pc.owner.podman(['unshare', 'sh', '-c', 'mv "$1" "$2" && mkdir -m 700 "$1" && chown 1000:1000 "$1" && cp -a --reflink=never -- "$2/." "$1/" && rm -rf "$2"', 'sh', pc.pgdata, `${pc.pgdata}.old`]);
    expect(sh(['lsattr', '-d', path.join(pc.pgdata, 'global/pg_control')])).not.toMatch(/^\S*C/);
    await box.exec([...user, 'start', QUADLET_UNIT], { check: true });
    await box.waitFor('PostgreSQL to answer', async () => (await box.exec(psql('select 1'), { env: { PGPASSWORD: password } })).code === 0);
    const fixed = await run(['repair', '--yes']);
    expect(fixed.code, `${fixed.stdout}\n${fixed.stderr}`).toBe(0);
    expect(sh(['lsattr', '-d', path.join(pc.pgdata, 'global/pg_control')])).toMatch(/^\S*C/);
    await expectMappedOwner(pc);
    expect(await props()).toMatchObject({ ActiveState: 'active' });
    expect(await rows()).toEqual(['A', 'B']);
  }, 300_000);

  for (const point of ['rollback:stop', 'rollback:swapped'] as const) {
    it(`a rollback killed at ${point}: the unit stays stopped (no restart on swapped files); the next command recovers`, async () => {
      const snap = await run(['snapshot', '--label', `before-${point.replace(':', '-')}`]);
      expect(snap.code, snap.stderr).toBe(0);
      await q(`insert into marker values ('after-${point}')`);
      const expected = point === 'rollback:stop' ? await rows() : (await rows()).filter((v) => v !== `after-${point}`);
      const restarts = (await props()).NRestarts;
      const killed = await run(['rollback', snap.json.snapshot.name, '--yes'], { LYCHD_CRYPT_FAULT: point });
      expect(killed.signal ?? killed.code, killed.stderr).toBe('SIGKILL');
      expect(await props()).toMatchObject({ ActiveState: 'inactive', NRestarts: restarts });
      const next = await run(['snapshot', '--label', 'next']);
      expect(next.code, next.stderr).toBe(0);
      expect(await props()).toMatchObject({ ActiveState: 'active', NRestarts: restarts });
      expect(await rows()).toEqual(expected);
      await expectMappedOwner(pc);
    }, 300_000);
  }
});
