// `lychd-crypt resize` on real loop images with a real PostgreSQL: grown online under pgbench (no failed
// transaction, the same server process, file, loop device and Btrfs all at the new size, the registry
// updated); a shrink refused with the numbers, and one that fits; kill -9 after each step, then the next
// `resize` finishes it; Method A: Btrfs grows to an enlarged "partition" (a loop device here).
import { describe, expect, test } from 'vitest';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { PG_BIN, skipReason } from '../helpers/env.js';
import { sh } from '../helpers/host.js';
import { btrfsDevice1 } from '../helpers/btrfs-devices.js';
import { runPgbench, type TestServer } from '../helpers/pg.js';
import { cli, cliChild, cryptWithServer } from '../helpers/snap.js';
import { makeCryptFixture, reconfigure, type CryptFixture } from '../helpers/crypt-fixture.js';
import { cliSuite } from '../helpers/suite.js';
import { makeUser } from '../helpers/host.js';
import { cliAs } from '../helpers/as-user.js';
import { chmod, writeFile } from 'node:fs/promises';
import { entryFile } from '../../src/base/registry/store.js';
import { capacityJournalPath } from '../../src/runtime/capacity/journal.js';

const MiB = 2 ** 20;
const suite = cliSuite();
const skip = skipReason('root', 'btrfs', 'loop', 'pg15', 'pgbench');

const postmasterPid = async (server: TestServer) => Number((await readFile(path.join(server.pgdata, 'postmaster.pid'), 'utf8')).split('\n')[0]);
const loopOf = (root: string) => sh(['findmnt', '-n', '-o', 'SOURCE', '--mountpoint', root]).trim();
const btrfsSize = (root: string) => btrfsDevice1(root).size;
const devSize = (dev: string) => Number(sh(['blockdev', '--getsize64', dev]).trim());

/** File, loop device and Btrfs: the three sizes a resize must keep in step. */
async function sizes(fx: CryptFixture) {
  return { file: (await stat(fx.config.loopback!.image)).size, loop: devSize(loopOf(fx.root)), btrfs: btrfsSize(fx.root) };
}
const registered = async (fx: CryptFixture) => JSON.parse(await readFile(entryFile(fx.config.registry.dir, fx.config.crypt.name), 'utf8')).config;

describe.skipIf(skip)(`resize ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('grow online under pgbench: no failed transaction, same server, every layer at the new size', async () => {
    const scratch = await suite.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15, { fixture: { sizeMiB: 512 } });
    const conn = ['-h', server.socketDir, '-p', String(server.port), '-U', 'postgres'];
    execFileSync(path.join(PG_BIN[15], 'pgbench'), ['-i', '-s', '2', '-q', ...conn, 'postgres'], { stdio: 'ignore' });
    const pid = await postmasterPid(server);

    const dry = await cli(fx.root, ['--json', 'resize', '--size', '+512M', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json.steps.map((s: { kind: string }) => s.kind)).toEqual(['resize-image', 'refresh-loop', 'resize-btrfs']);
    expect(dry.json.steps[1].commands).toEqual([['losetup', '--set-capacity', loopOf(fx.root)]]);
    expect(await sizes(fx)).toEqual({ file: 512 * MiB, loop: 512 * MiB, btrfs: 512 * MiB });

    const bench = runPgbench(['-c', '4', '-j', '2', '-T', '5', '--no-vacuum', ...conn, 'postgres']);
    await new Promise((r) => setTimeout(r, 1500));
    const r = await cliChild(suite.bundle, fx.root, ['--json', 'resize', '--size', '+512M']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ direction: 'grow', fromBytes: 512 * MiB, toBytes: 1024 * MiB });
    const b = await bench;
    expect(b.code, b.out).toBe(0);
    expect(b.out).toMatch(/number of failed transactions: 0 /);

    expect(await postmasterPid(server)).toBe(pid);
    expect(await sizes(fx)).toEqual({ file: 1024 * MiB, loop: 1024 * MiB, btrfs: 1024 * MiB });
    expect((await registered(fx)).loopback.sizeBytes).toBe(1024 * MiB);
    expect((await server.query('select count(*)::int as n from pgbench_accounts'))[0]!.n).toBe(200000);
    // Run again: nothing to do.
    const again = await cli(fx.root, ['--json', 'resize', '--size', '1G']);
    expect(again.json.direction, again.stderr).toBe('none');
  });

  test('shrink: refused with the numbers when the data and the reserve do not fit; done when they do', async () => {
    const scratch = await suite.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15, { fixture: { sizeMiB: 1024 } });
    await server.query("create table t as select g as id, repeat(md5(g::text), 30) as pad from generate_series(1, 100000) g");
    sh(['btrfs', 'filesystem', 'sync', fx.root]);
    const pid = await postmasterPid(server);

    const refused = await cli(fx.root, ['--json', 'resize', '--size', '256M']);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toMatch(/cannot shrink to 256M: it holds .* must stay free at that size .*nothing was changed/);
    expect(refused.json.error.hint).toMatch(/at least --size \d+M/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(await sizes(fx)).toEqual({ file: 1024 * MiB, loop: 1024 * MiB, btrfs: 1024 * MiB });

    const r = await cli(fx.root, ['--json', 'resize', '--size', '640M']);
    expect(r.code, r.stderr + sh(['btrfs', 'filesystem', 'usage', '-b', fx.root])).toBe(0);
    expect(r.json.steps.map((s: { kind: string }) => s.kind)).toEqual(['resize-btrfs', 'resize-image', 'refresh-loop']);
    expect(await sizes(fx)).toEqual({ file: 640 * MiB, loop: 640 * MiB, btrfs: 640 * MiB });
    expect(await postmasterPid(server)).toBe(pid);
    expect((await server.query('select count(*)::int as n from t'))[0]!.n).toBe(100000);
    expect((await cli(fx.root, ['snapshot'])).code).toBe(0);
  });

  for (const [what, size, fault, want, then] of [
    ['grow', '+256M', 'resize-after-resize-image', 768, 'resize'],
    ['grow', '+256M', 'resize-after-refresh-loop', 768, 'snapshot'],
    ['shrink', '384M', 'resize-after-resize-btrfs', 384, 'resize'],
    ['shrink', '384M', 'resize-after-resize-image', 384, 'snapshot'],
  ] as const) {
    test(`${what}: kill -9 at ${fault}, the next command (${then}) finishes it`, async () => {
      const scratch = await suite.scratch();
      const fx = await makeCryptFixture(scratch, { sizeMiB: 512, postgres: false });
      const killed = await cliChild(suite.bundle, fx.root, ['resize', '--size', size], { LYCHD_CRYPT_FAULT: fault });
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      const journal = JSON.parse(await readFile(capacityJournalPath(fx.config), 'utf8'));
      expect(journal).toMatchObject({ op: 'resize', toBytes: want * MiB });
      // Half-done: the three layers disagree.
      const mid = await sizes(fx);
      expect(new Set([mid.file, mid.loop, mid.btrfs]).size).toBeGreaterThan(1);

      const doctor = await cli(fx.root, ['--json', 'doctor']);
      const pending = doctor.json.checks.find((c: { id: string }) => c.id === 'journal.capacity');
      expect(pending.status).toBe('problem');
      expect(pending.finding).toMatch(/an interrupted resize to \d+M .* is pending/);
      const dry = await cli(fx.root, ['resize', '--dry-run']);
      expect(dry.stderr + dry.stdout).toMatch(/interrupted resize to \d+M is pending/);
      const next = await cli(fx.root, ['--json', then]);
      expect(next.code, next.stderr).toBe(0);
      if (then === 'resize') expect(next.json.finished[0]).toMatch(/finished the interrupted resize/);
      else expect(next.stderr).toMatch(/recovered: finished the interrupted resize of .* to \d+M/);
      expect(await sizes(fx)).toEqual({ file: want * MiB, loop: want * MiB, btrfs: want * MiB });
      expect((await registered(fx)).loopback.sizeBytes).toBe(want * MiB);
      await expect(stat(capacityJournalPath(fx.config))).rejects.toThrow(/ENOENT/);
    });
  }

  test('refused beyond the host\'s free space (minus the margin); nothing changed', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { sizeMiB: 512, postgres: false });
    const r = await cli(fx.root, ['--json', 'resize', '--size', '100T']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/could claim .* more of .*, which has .* free and must keep .*nothing was changed/);
    expect(r.json.error.hint).toMatch(/at most --size \d+[MGT]/);
    expect(await sizes(fx)).toEqual({ file: 512 * MiB, loop: 512 * MiB, btrfs: 512 * MiB });
    await expect(stat(capacityJournalPath(fx.config))).rejects.toThrow(/ENOENT/);
  });

  test('Method A: Btrfs grows to an enlarged partition (a loop device standing in)', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { sizeMiB: 384, postgres: false });
    const dev = loopOf(fx.root);
    await reconfigure(fx, { ...fx.config, method: 'partition', loopback: null, partition: { device: dev, wipe: false } });
    // "The partition was enlarged": the device under Btrfs is larger now.
    sh(['truncate', '-s', '640M', path.join(scratch.dir, 'crypt.img')]);
    sh(['losetup', '--set-capacity', dev]);
    const dry = await cli(fx.root, ['--json', 'resize', '--dry-run']);
    expect(dry.json.steps.map((s: { kind: string }) => s.kind)).toEqual(['resize-btrfs']);
    const r = await cli(fx.root, ['--json', 'resize']);
    expect(r.code, r.stderr).toBe(0);
    expect(btrfsSize(fx.root)).toBe(640 * MiB);
    const tooBig = await cli(fx.root, ['--json', 'resize', '--size', '1G']);
    expect(tooBig.code).toBe(3);
    expect(tooBig.json.error.hint).toMatch(/Enlarge the partition first/);
  });

  test('a rootless crypt: root resizes it itself (its journal root\'s); its owner is told the sudo command', async () => {
    const scratch = await suite.scratch();
    const owner = makeUser(scratch);
    const fx = await makeCryptFixture(scratch, { postgres: false, owner, rootless: true, root: path.join(owner.home, '.local/share/lychd'), sizeMiB: 384 });
    await chmod(path.dirname(suite.bundle), 0o755); // the owner runs the same runtime
    const mine = await cliAs(owner, suite.bundle, ['--crypt', fx.root, '--json', 'resize', '--size', '+128M']);
    expect(mine.code, mine.stderr).toBe(3);
    expect(mine.json.error.hint).toMatch(/^Run: sudo lychd-crypt .*resize --size \+128M/);
    // A journal in the owner's state directory is never root's to act on: root's own is elsewhere.
    await writeFile(path.join(fx.paths.state, 'capacity.json'), JSON.stringify({ op: 'resize', id: 'x', startedAt: new Date().toISOString(), toBytes: 2 ** 40, fromBytes: 1, direction: 'shrink', preallocate: false }));
    expect(capacityJournalPath(fx.config)).not.toContain(owner.home);
    const r = await cliChild(suite.bundle, fx.root, ['--json', 'resize', '--size', '+128M']);
    expect(r.code, r.stderr).toBe(0);
    expect(await sizes(fx)).toEqual({ file: 512 * MiB, loop: 512 * MiB, btrfs: 512 * MiB });
    // Root made nothing in the owner's state directory they cannot use: their next command takes the lock.
    const snap = await cliAs(owner, suite.bundle, ['--crypt', fx.root, '--json', 'snapshot']);
    expect(snap.code, snap.stderr).toBe(0);

    // Interrupted, it is finished by root's repair (root's part, before the owner's).
    const killed = await cliChild(suite.bundle, fx.root, ['resize', '--size', '+64M'], { LYCHD_CRYPT_FAULT: 'resize-after-resize-image' });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const repair = await cliChild(suite.bundle, fx.root, ['repair', '--yes']);
    expect(repair.stderr).toMatch(/recovered: finished the interrupted resize of .* to 576M/);
    expect(await sizes(fx)).toEqual({ file: 576 * MiB, loop: 576 * MiB, btrfs: 576 * MiB });
  });
});
