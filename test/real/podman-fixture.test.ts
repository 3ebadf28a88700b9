// Smoke test of the rootless-Podman fixtures (test/helpers/podman.ts, test/fixtures/pg-image): an owner
// without root runs PostgreSQL 15 and 18 in its container the way LychD does, over a directory of a Btrfs loop
// crypt; the data belongs on the host to the owner's subordinate uid; the server answers over TCP with the
// scram password from the owner's ~/.pgpass; `podman unshare` reads PGDATA; afterwards nothing is left.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chown, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { makeCryptFixture, type CryptFixture } from '../helpers/crypt-fixture.js';
import { PG_BIN, skipReason } from '../helpers/env.js';
import { makePodmanOwner, type PgContainer, type PodmanOwner } from '../helpers/podman.js';
import { makeScratch, type Scratch } from '../helpers/scratch.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15', 'pg18', 'podman');

describe.skipIf(skip)(`rootless Podman fixtures ${skip ? `(skipped: ${skip})` : ''}`, () => {
  let scratch: Scratch;
  let owner: PodmanOwner;
  let fx: CryptFixture;
  let cleaned = false;

  beforeAll(async () => {
    scratch = await makeScratch();
    owner = await makePodmanOwner(scratch);
    await owner.loadImage(15);
    await owner.loadImage(18);
    // Mounted after the owner's first podman call: its pause process cannot see the crypt until refreshed.
    fx = await makeCryptFixture(scratch, { owner: owner.user, rootless: true, root: path.join(owner.user.home, '.local/share/lychd'), postgres: false });
    await owner.refreshMounts();
  });
  afterAll(async () => {
    if (!cleaned) await scratch?.cleanup();
  });

  /** psql 15 as the owner, over TCP, with no password but the one its ~/.pgpass holds. */
  const psqlAsOwner = (c: PgContainer, sql: string) =>
    owner.run([path.join(PG_BIN[15], 'psql'), '-h', c.address, '-p', String(c.port), '-U', 'lich', '-d', 'lychd', '-w', '-X', '-A', '-t', '-c', sql]);

  async function roundTrip(version: 15 | 18, dataDir: string): Promise<void> {
    const c = await owner.startPostgres({ version, name: `pg${version}`, dataDir });
    // :U gave PGDATA to the container's postgres (999), which is the owner's subordinate uid on the host.
    const st = await stat(path.join(dataDir, 'PG_VERSION'));
    expect(st.uid).toBe(owner.subuids[0]!.start + 999);
    expect(st.gid).toBe(owner.subgids[0]!.start + 999);
    expect((await stat(dataDir)).uid).toBe(st.uid);
    // The helper's keep-id arithmetic is the kernel's: the server's own uid_map says where each id goes.
    const uidMap = readFileSync(`/proc/${(await c.inspect()).State.Pid}/uid_map`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).map(Number) as [number, number, number]);
    const mapped = (id: number) => uidMap.filter(([inner, , n]) => id >= inner && id < inner + n).map(([inner, outer]) => outer + id - inner)[0];
    for (const id of [0, 999, owner.user.uid - 1, owner.user.uid, owner.user.uid + 1, 60_000]) expect(owner.hostUid(id), `container uid ${id}`).toBe(mapped(id));

    const out = await psqlAsOwner(c, "create table marker (v text); insert into marker values ('A'); select current_setting('server_version_num')::int / 10000, count(*) from marker");
    expect(out.stdout.trim().split('\n').pop()).toBe(`${version}|1`);
    // TCP asks for the scram password, from 127.0.0.1 too: a wrong one is refused.
    const [auth] = await c.query<{ scram: boolean }>("select rolpassword like 'SCRAM-SHA-256$%' as scram from pg_authid where rolname = 'lich'");
    expect(auth!.scram).toBe(true);
    const wrong = new pg.Client({ host: c.address, port: c.port, user: 'lich', password: 'wrong', database: 'lychd' });
    await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
    // The image's pg_amcheck works against its server (verify's restore test will use it).
    await owner.podman(['exec', c.name, 'pg_amcheck', '--install-missing', '-h', '/var/run/postgresql', '-U', 'lich', 'lychd']);

    // The owner cannot read PGDATA as itself, but can inside its user namespace.
    expect((await owner.run(['cat', path.join(dataDir, 'PG_VERSION')], { check: false })).stderr).toMatch(/Permission denied/);
    expect((await owner.podman(['unshare', 'cat', path.join(dataDir, 'PG_VERSION')])).stdout.trim()).toBe(String(version));

    await c.stop();
    expect(await c.isRunning()).toBe(false);
    expect((await owner.podman(['unshare', 'test', '-e', path.join(dataDir, 'postmaster.pid')], { check: false })).code).toBe(1);
    await c.start();
    expect((await psqlAsOwner(c, 'select v from marker')).stdout.trim()).toBe('A');
    await c.stop();
  }

  test('the pause process holds the crypt but no other test’s mounts (which it would keep busy)', async () => {
    const other = await makeScratch();
    try {
      const foreign = other.path('mnt');
      await mkdir(foreign);
      execFileSync('mount', ['-t', 'tmpfs', 'lychd-foreign', foreign]);
      await owner.refreshMounts();
      const pause = Number(readFileSync(path.join(owner.runtimeDir, 'libpod/tmp/pause.pid'), 'utf8').trim());
      const targets = readFileSync(`/proc/${pause}/mountinfo`, 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[4]);
      expect(targets).toContain(fx.root);
      expect(targets).not.toContain(foreign);
    } finally {
      await other.cleanup();
    }
  });

  test('PostgreSQL 15 in the owner’s container, data on the crypt owned by subuid+999', async () => {
    await roundTrip(15, fx.pgdata);
  });

  test('PostgreSQL 18 the same way', async () => {
    const dir = path.join(fx.paths.active, 'pg18');
    await mkdir(dir, { mode: 0o700 });
    await chown(dir, owner.user.uid, owner.user.gid);
    await roundTrip(18, dir);
  });

  test('the teardown leaves no process, mount, loop device, user or subordinate ids', async () => {
    const { user } = owner;
    const subuids = owner.subuids;
    await scratch.cleanup();
    cleaned = true;
    expect(owner.processes()).toEqual([]);
    expect(() => execFileSync('getent', ['passwd', user.name], { stdio: 'ignore' })).toThrow();
    for (const f of ['/etc/subuid', '/etc/subgid']) expect(readFileSync(f, 'utf8')).not.toMatch(new RegExp(`^${user.name}:`, 'm'));
    expect(subuids.length).toBeGreaterThan(0);
    expect(existsSync(`/run/user/${user.uid}`)).toBe(false);
    expect(existsSync(user.home)).toBe(false);
    expect(execFileSync('findmnt', ['-rn', '-o', 'TARGET'], { encoding: 'utf8' })).not.toContain(scratch.dir);
    expect(execFileSync('losetup', ['-l', '-n', '-O', 'BACK-FILE'], { encoding: 'utf8' })).not.toContain(scratch.dir);
  });
});
