// The Ritual when things go wrong: the tool killed inside backup mode, the server down (cold), a server
// that runs but cannot be reached, failed preflight checks, and two snapshot commands at once.
import { describe, expect, test } from 'vitest';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { reconfigure } from '../helpers/crypt-fixture.js';
import { skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite, scratchSuite } from '../helpers/suite.js';
import { sh } from '../helpers/host.js';
import { cli, cliChild, cryptWithServer } from '../helpers/snap.js';
import type { Config } from '../../src/model/config.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');
const scratches = scratchSuite();
let scratch: Scratch | undefined;

async function snapshotDirs(snapshots: string): Promise<string[]> {
  return (await readdir(snapshots)).filter((n) => !n.startsWith('.')).sort();
}

async function waitFor(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(skip)(`snapshot failures ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('SIGKILL inside backup mode: the server leaves it, nothing half is listed, the next snapshot works', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    const killed = await cliChild(suite.bundle, fx.root, ['snapshot'], { LYCHD_CRYPT_FAULT: 'snapshot:after-backup-start' });
    expect(killed.signal).toBe('SIGKILL');
    // The dead tool's session ends, and with it the backup.
    await waitFor(async () => (await server.query("select count(*)::int as n from pg_stat_activity where application_name like 'lychd-crypt%'"))[0]!.n === 0);
    const log = await readFile(scratch.path(`pg15-${server.port}.log`), 'utf8');
    expect(log).toMatch(/aborting backup due to backend exiting before pg_backup_stop was called/);
    const c = await server.connect();
    await c.query("select pg_backup_start('after-kill', true)");
    await c.query('select pg_backup_stop(false)');
    await c.end();
    expect((await cli(fx.root, ['--json', 'list'])).json.snapshots).toEqual([]);

    // Killed after the snapshot was made but before its metadata: list ignores it, the next mutating
    // command deletes it (journal), and its own snapshot succeeds.
    const half = await cliChild(suite.bundle, fx.root, ['snapshot', '--label', 'half'], { LYCHD_CRYPT_FAULT: 'snapshot:before-metadata' });
    expect(half.signal).toBe('SIGKILL');
    const dirs = await snapshotDirs(fx.paths.snapshots);
    expect(dirs).toHaveLength(1);
    expect(dirs[0]).toMatch(/-half$/);
    const listed = await cli(fx.root, ['--json', 'list']);
    expect(listed.json.snapshots).toEqual([]);
    expect(listed.stderr).toMatch(/incomplete/);

    const next = await cli(fx.root, ['--json', 'snapshot']);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/recovered: deleted the incomplete snapshot/);
    const after = await snapshotDirs(fx.paths.snapshots);
    expect(after).toEqual([next.json.snapshot.name, `${next.json.snapshot.name}.json`]);

    // Killed after the metadata, before the journal was cleared: the snapshot is complete and stays.
    const late = await cliChild(suite.bundle, fx.root, ['--json', 'snapshot', '--label', 'late'], { LYCHD_CRYPT_FAULT: 'snapshot:after-metadata' });
    expect(late.signal).toBe('SIGKILL');
    const third = await cli(fx.root, ['--json', 'snapshot']);
    expect(third.stderr).toMatch(/recovered: snapshot \S+-late had completed/);
    expect((await cli(fx.root, ['--json', 'list'])).json.snapshots.map((s: { name: string }) => s.name)).toEqual([
      third.json.snapshot.name,
      expect.stringMatching(/-late$/),
      next.json.snapshot.name,
    ]);
  });

  test('a failure after the snapshot, before its metadata: the snapshot is deleted, backup mode ended', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    // The metadata phase fails (reading the new subvolume's facts) after the subvolume was made.
    const r = await cliChild(suite.bundle, fx.root, ['--json', 'snapshot'], { LYCHD_CRYPT_FAIL: 'snapshot:metadata' });
    expect(r.code).toBe(1);
    expect(r.json.error.message).toMatch(/injected failure[\s\S]*No snapshot was kept/);
    expect(await snapshotDirs(fx.paths.snapshots)).toEqual([]);
    expect(await readdir(fx.paths.state)).not.toContain('journal.json');
    const log = await readFile(scratch.path(`pg15-${server.port}.log`), 'utf8');
    expect(log).not.toMatch(/aborting backup/); // it was stopped properly, on the same session
    expect((await cli(fx.root, ['snapshot'])).code).toBe(0);
  });

  test('server down: cold snapshot; --mode cold refused while it runs; --mode bracket fails while it is down', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    const [{ sysid }] = (await server.query<{ sysid: string }>('select system_identifier::text as sysid from pg_control_system()')) as [{ sysid: string }];
    const refused = await cli(fx.root, ['snapshot', '--mode', 'cold']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/running/);
    server.stop('fast');
    const bracket = await cli(fx.root, ['snapshot', '--mode', 'bracket']);
    expect(bracket.code).toBe(1);
    expect(bracket.stderr).toMatch(/not running/);
    const r = await cli(fx.root, ['--json', 'snapshot', '--label', 'cold one']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.snapshot.mode).toBe('cold');
    expect(r.json.snapshot.postgres).toMatchObject({ systemIdentifier: sysid, major: 15, clusterState: 'shut down', startLsn: null });
    expect(await snapshotDirs(fx.paths.snapshots)).toHaveLength(2);
  });

  test('wrong password and an unreachable running server: exit 1 with the reason, no snapshot', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15, { conf: ["password_encryption = 'scram-sha-256'"] });
    await server.query("create role snapuser login superuser password 'right-secret'");
    const hba = path.join(fx.pgdata, 'pg_hba.conf');
    await writeFile(hba, `local all snapuser scram-sha-256\n${await readFile(hba, 'utf8')}`);
    await server.query('select pg_reload_conf()');
    const config: Config = structuredClone(fx.config);
    config.postgres!.connection.user = 'snapuser';
    await reconfigure(fx, config);

    const wrong = await cli(fx.root, ['snapshot'], { PGPASSWORD: 'wrong-secret' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/is running \(PID \d+.*cannot be reached.*password authentication failed/s);
    expect(wrong.stderr).not.toContain('wrong-secret');
    expect(await snapshotDirs(fx.paths.snapshots)).toEqual([]);

    const right = await cli(fx.root, ['snapshot'], { PGPASSWORD: 'right-secret' });
    expect(right.code, right.stderr).toBe(0);

    // ~/.pgpass of the user running the tool, with libpq's `localhost` line for a socket connection.
    const home = scratch.path('home-pgpass');
    await mkdir(home);
    await writeFile(path.join(home, '.pgpass'), 'localhost:5432:*:snapuser:right-secret\n', { mode: 0o600 });
    const viaPgpass = await cliChild(suite.bundle, fx.root, ['snapshot'], { HOME: home, PGPASSWORD: undefined });
    expect(viaPgpass.code, viaPgpass.stderr).toBe(0);

    config.postgres!.connection.port = 5999; // nothing listens there, but the postmaster runs
    await reconfigure(fx, config);
    const away = await cli(fx.root, ['--json', 'snapshot'], { PGPASSWORD: 'right-secret' });
    expect(away.code).toBe(1);
    expect(away.json.error.message).toMatch(/is running \(PID \d+, socket directory .*port 5432\) but cannot be reached/);
    expect(await snapshotDirs(fx.paths.snapshots)).toHaveLength(4);
  });

  test('preflight: pg_wal symlinked away, full_page_writes off, a nested subvolume: clear errors, nothing taken', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    await server.query('alter system set full_page_writes = off');
    await server.query('select pg_reload_conf()');
    const fpw = await cli(fx.root, ['snapshot']);
    expect(fpw.code).toBe(1);
    expect(fpw.stderr).toMatch(/full_page_writes is off[\s\S]*fix: .*full_page_writes = on/);
    await server.query('alter system reset full_page_writes');
    await server.query('select pg_reload_conf()');

    sh(['btrfs', 'subvolume', 'create', path.join(fx.paths.active, 'nested')]);
    const nested = await cli(fx.root, ['snapshot', '--mode', 'none']);
    expect(nested.code).toBe(1);
    expect(nested.stderr).toMatch(/active\/nested is a nested Btrfs subvolume/);
    sh(['btrfs', 'subvolume', 'delete', path.join(fx.paths.active, 'nested')]);

    server.stop('fast');
    const outside = scratch.path('wal-outside');
    sh(['mv', path.join(fx.pgdata, 'pg_wal'), outside]);
    await symlink(outside, path.join(fx.pgdata, 'pg_wal'));
    server.start();
    const wal = await cli(fx.root, ['snapshot']);
    expect(wal.code).toBe(1);
    expect(wal.stderr).toMatch(/pg_wal is a symlink to .*wal-outside/);
    expect(wal.stderr).toMatch(/fix: stop PostgreSQL/);
    expect(await snapshotDirs(fx.paths.snapshots)).toEqual([]);
    expect(await readdir(fx.paths.state)).not.toContain('journal.json');
  });

  test('wal_level minimal: bracket refused with the fix, checkpoint mode works', async () => {
    scratch = await scratches.scratch();
    const { fx } = await cryptWithServer(scratch, 15, { conf: ['wal_level = minimal', 'max_wal_senders = 0'] });
    const b = await cli(fx.root, ['snapshot']);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/wal_level is minimal[\s\S]*--mode checkpoint/);
    const c = await cli(fx.root, ['snapshot', '--mode', 'checkpoint']);
    expect(c.code, c.stderr).toBe(0);
  });

  test('two snapshot commands at once: one waits (--wait) or exits 4; both results whole', async () => {
    scratch = await scratches.scratch();
    const { fx } = await cryptWithServer(scratch, 15);
    const waited = await Promise.all([
      cliChild(suite.bundle, fx.root, ['--wait', '60', '--json', 'snapshot', '--label', 'same']),
      cliChild(suite.bundle, fx.root, ['--wait', '60', '--json', 'snapshot', '--label', 'same']),
    ]);
    for (const r of waited) expect(r.code, r.stderr).toBe(0);
    const names = waited.map((r) => r.json.snapshot.name as string);
    expect(new Set(names).size).toBe(2);

    // Hold the lock ourselves: a second command with --wait 0 exits 4 at once and changes nothing.
    const { open } = await import('node:fs/promises');
    const { tryFlock } = await import('../../src/base/sys/libc.js');
    const fh = await open(fx.paths.lock, 'a');
    expect(await tryFlock(fh.fd)).toBe(true);
    const busy = await cliChild(suite.bundle, fx.root, ['snapshot']);
    await fh.close();
    expect(busy.code).toBe(4);
    expect(busy.stderr).toMatch(/lock/);

    const list = await cli(fx.root, ['--json', 'list']);
    expect(list.json.snapshots.map((s: { name: string }) => s.name).sort()).toEqual([...names].sort());
    expect((await snapshotDirs(fx.paths.snapshots)).length).toBe(4); // two subvolumes + two metadata files
  });
});
