// `lychd-crypt migrate --to-device` (Method B → A) with a second loop device standing in for the partition
// (the kernel here reads no partition tables): under pgbench (no failed transaction, the same server), the
// crypt ends on the device with the same filesystem UUID, grown to it, the fstab line switched to UUID=,
// the loop device detached, the data and snapshots there, and the persisted line mounts it again; kill -9
// after each step and the next command finishes it; the consent rules (data on the device, too small, no --yes).
import { describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PG_BIN, skipReason } from '../helpers/env.js';
import { makeLoopDevice, sh } from '../helpers/host.js';
import { btrfsDevice1 } from '../helpers/btrfs-devices.js';
import { runPgbench } from '../helpers/pg.js';
import { cli, cliChild, cryptWithServer } from '../helpers/snap.js';
import { makeCryptFixture, reconfigure, type CryptFixture } from '../helpers/crypt-fixture.js';
import { cliSuite } from '../helpers/suite.js';
import { makeUser } from '../helpers/host.js';
import { cliAs } from '../helpers/as-user.js';
import { chmod } from 'node:fs/promises';
import { stubRuntime } from '../helpers/fake-runtime.js';
import { VERSION } from '../../src/base/version.js';
import type { Scratch } from '../helpers/scratch.js';
import { entryFile } from '../../src/base/registry/store.js';
import { mountSpecFor } from '../../src/model/mount-spec.js';
import { renderFstabLine } from '../../src/install/render/index.js';
import { capacityJournalPath } from '../../src/runtime/capacity/journal.js';

const MiB = 2 ** 20;
const suite = cliSuite();
const skip = skipReason('root', 'btrfs', 'loop', 'pg15', 'pgbench');

const fsUuid = (root: string) => sh(['blkid', '-p', '-s', 'UUID', '-o', 'value', btrfsDevice1(root).path]).trim();
const registered = async (fx: CryptFixture) => JSON.parse(await readFile(entryFile(fx.config.registry.dir, fx.config.crypt.name), 'utf8')).config;
const attachedTo = (image: string) => sh(['losetup', '-j', image]).trim();

/** The fixture persisted by an fstab line as init writes it (in the scratch dir). */
async function persisted(scratch: Scratch, fx: CryptFixture): Promise<string> {
  const fstab = scratch.path('etc/fstab');
  await mkdir(path.dirname(fstab), { recursive: true });
  await reconfigure(fx, { ...fx.config, persist: { ...fx.config.persist, via: 'fstab', fstab } });
  await writeFile(fstab, `# host lines\n${renderFstabLine(mountSpecFor(fx.config)!)}\n`);
  return fstab;
}

describe.skipIf(skip)(`migrate ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('under pgbench onto a device: same UUID, grown, fstab switched, loop detached, data and snapshots there, the fstab line mounts it', async () => {
    const scratch = await suite.scratch();
    // 1 GiB: on a 512 MiB crypt under pgbench Btrfs may have no unallocated room to start a replace (refused, docs/capacity.md).
    const { fx, server } = await cryptWithServer(scratch, 15, { conf: ['min_wal_size = 32MB', 'max_wal_size = 64MB'], fixture: { sizeMiB: 1024 } });
    const fstab = await persisted(scratch, fx);
    await stubRuntime(fx.config.install.binDir, VERSION);
    const conn = ['-h', server.socketDir, '-p', String(server.port), '-U', 'postgres'];
    execFileSync(path.join(PG_BIN[15], 'pgbench'), ['-i', '-s', '2', '-q', ...conn, 'postgres'], { stdio: 'ignore' });
    expect((await cli(fx.root, ['snapshot', '--label', 'before the move'])).code).toBe(0);
    const uuid = fsUuid(fx.root);
    const image = fx.config.loopback!.image;
    const dev = makeLoopDevice(scratch, 1280);
    const pid = Number((await readFile(path.join(server.pgdata, 'postmaster.pid'), 'utf8')).split('\n')[0]);

    const dry = await cli(fx.root, ['--json', 'migrate', '--to-device', dev, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json.steps.map((s: { kind: string }) => s.kind)).toEqual(['replace-device', 'resize-btrfs', 'write-fstab-line', 'write-mount-record', 'detach-loop']);
    expect(dry.json.steps[0].commands[0]).toEqual(['btrfs', 'replace', 'start', '-B', '1', dev, fx.root]);

    const bench = runPgbench(['-c', '4', '-j', '2', '-T', '6', '--no-vacuum', ...conn, 'postgres']);
    await new Promise((r) => setTimeout(r, 1500));
    const r = await cliChild(suite.bundle, fx.root, ['--json', 'migrate', '--to-device', dev, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    const b = await bench;
    expect(b.code, b.out).toBe(0);
    expect(b.out).toMatch(/number of failed transactions: 0 /);
    expect(Number((await readFile(path.join(server.pgdata, 'postmaster.pid'), 'utf8')).split('\n')[0])).toBe(pid);

    const { size, path: onDev } = btrfsDevice1(fx.root);
    expect(onDev).toBe(dev);
    expect(size).toBe(1280 * MiB);
    expect(fsUuid(fx.root)).toBe(uuid);
    expect(await readFile(fstab, 'utf8')).toContain(`UUID=${uuid} ${fx.root} btrfs`);
    expect(await readFile(fstab, 'utf8')).toContain('# host lines');
    const cfg = await registered(fx);
    expect(cfg).toMatchObject({ method: 'partition', loopback: null, partition: { device: dev, uuid } });
    expect(attachedTo(image)).toBe('');
    // The image: removed once doctor is healthy, else kept with the reason.
    // Doctor is healthy on the device (the mount record under the mount point names it too): the image is gone.
    expect(r.json.imageNote).toBe('doctor is healthy on the device');
    expect(r.json.imageRemoved).toBe(true);
    await expect(stat(image)).rejects.toThrow(/ENOENT/);

    // The data and the snapshot are there; the persisted line mounts it again.
    expect((await server.query('select count(*)::int as n from pgbench_accounts'))[0]!.n).toBe(200000);
    const names = (await cli(fx.root, ['--json', 'list'])).json.snapshots.map((s: { label: string | null }) => s.label);
    expect(names).toContain('before the move');
    server.stop('fast');
    sh(['umount', fx.root]);
    sh(['mount', '--fstab', fstab, fx.root]);
    expect(btrfsDevice1(fx.root).path).toBe(dev);
    expect((await cli(fx.root, ['--json', 'doctor'])).json.checks.find((c: { id: string }) => c.id === 'mount.mounted')?.status).toBe('ok');
  });

  test('consent: data on the device needs --wipe, a smaller device and a missing --yes are refused; nothing changes', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { sizeMiB: 384, postgres: false });
    const small = makeLoopDevice(scratch, 256);
    const withData = makeLoopDevice(scratch, 512);
    sh(['mkfs.ext4', '-q', '-F', withData]);
    const loop = btrfsDevice1(fx.root).path;

    const noYes = await cli(fx.root, ['--json', 'migrate', '--to-device', withData]);
    expect(noYes.code).toBe(3);
    expect(noYes.json.error.hint).toMatch(/--dry-run.*--yes/);
    const data = await cli(fx.root, ['--json', 'migrate', '--to-device', withData, '--yes']);
    expect(data.code, data.stderr).toBe(3);
    expect(data.stderr).toMatch(/holds data \(.*ext4.*\); nothing was changed/);
    expect(data.json.error.hint).toMatch(/--wipe/);
    const tooSmall = await cli(fx.root, ['--json', 'migrate', '--to-device', small, '--yes']);
    expect(tooSmall.code).toBe(3);
    expect(tooSmall.json.error.hint).toMatch(/resize --size 256M/);
    const mounted = await cli(fx.root, ['--json', 'migrate', '--to-device', btrfsDevice1(fx.root).path, '--yes']);
    expect(mounted.code).not.toBe(0);
    expect(btrfsDevice1(fx.root).path).toBe(loop);
    await expect(stat(capacityJournalPath(fx.config))).rejects.toThrow(/ENOENT/);

    // With --wipe the ext4 device is taken.
    const wiped = await cli(fx.root, ['--json', 'migrate', '--to-device', withData, '--wipe', '--yes', '--keep-image']);
    expect(wiped.code, wiped.stderr).toBe(0);
    expect(btrfsDevice1(fx.root).path).toBe(withData);
    expect(wiped.json.imageNote).toBe('--keep-image');
    expect((await stat(fx.config.loopback!.image)).size).toBe(384 * MiB);
  });

  test('a rootless crypt: root moves it (host-side checks only), the owner goes on snapshotting on the device', async () => {
    const scratch = await suite.scratch();
    const owner = makeUser(scratch);
    const fx = await makeCryptFixture(scratch, { postgres: false, owner, rootless: true, root: path.join(owner.home, '.local/share/lychd'), sizeMiB: 384 });
    const fstab = await persisted(scratch, fx);
    await chmod(path.dirname(suite.bundle), 0o755);
    const dev = makeLoopDevice(scratch, 512);
    const refused = await cliAs(owner, suite.bundle, ['--crypt', fx.root, '--json', 'migrate', '--to-device', dev, '--yes']);
    expect(refused.code).toBe(3);
    expect(refused.json.error.hint).toMatch(/^Run: sudo lychd-crypt /);
    const r = await cliChild(suite.bundle, fx.root, ['--json', 'migrate', '--to-device', dev, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(btrfsDevice1(fx.root).path).toBe(dev);
    // The owner deletes their own snapshots: the switched line keeps user_subvol_rm_allowed.
    expect(await readFile(fstab, 'utf8')).toMatch(new RegExp(`UUID=${fsUuid(fx.root)} \\S+ btrfs \\S*user_subvol_rm_allowed`));
    const snap = await cliAs(owner, suite.bundle, ['--crypt', fx.root, '--json', 'snapshot']);
    expect(snap.code, snap.stderr).toBe(0);
    const del = await cliAs(owner, suite.bundle, ['--crypt', fx.root, '--json', 'delete', snap.json.snapshot.name, '--yes']);
    expect(del.code, del.stderr).toBe(0);
  });

  for (const [fault, then] of [
    ['migrate-after-replace-device', 'snapshot'],
    ['migrate-after-resize-btrfs', 'repair'],
    ['migrate-after-write-fstab-line', 'migrate'],
    ['migrate-after-detach-loop', 'snapshot'],
  ] as const) {
    test(`kill -9 at ${fault}: the next command (${then}) finishes the move`, async () => {
      const scratch = await suite.scratch();
      const fx = await makeCryptFixture(scratch, { sizeMiB: 384, postgres: false });
      const fstab = await persisted(scratch, fx);
      expect((await cli(fx.root, ['snapshot'])).code).toBe(0);
      await writeFile(path.join(fx.paths.active, 'data'), 'kept');
      const uuid = fsUuid(fx.root);
      const dev = makeLoopDevice(scratch, 512);
      const killed = await cliChild(suite.bundle, fx.root, ['migrate', '--to-device', dev, '--yes'], { LYCHD_CRYPT_FAULT: fault });
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      expect(JSON.parse(await readFile(capacityJournalPath(fx.config), 'utf8'))).toMatchObject({ op: 'migrate', device: dev });

      const argv = then === 'migrate' ? ['migrate', '--to-device', dev, '--yes'] : then === 'repair' ? ['repair', '--yes'] : ['snapshot'];
      const next = await cli(fx.root, ['--json', ...argv]);
      expect(next.code, next.stderr + next.stdout.slice(0, 800)).toBe(then === 'repair' ? next.code : 0);
      expect(next.stderr + JSON.stringify(next.json)).toMatch(/finished the interrupted migration of .* onto /);
      await expect(stat(capacityJournalPath(fx.config))).rejects.toThrow(/ENOENT/);
      expect(btrfsDevice1(fx.root).path).toBe(dev);
      expect(btrfsDevice1(fx.root).size).toBe(512 * MiB);
      expect(await readFile(fstab, 'utf8')).toContain(`UUID=${uuid} `);
      expect((await registered(fx)).method).toBe('partition');
      expect(attachedTo(fx.config.loopback!.image)).toBe('');
      expect(await readFile(path.join(fx.paths.active, 'data'), 'utf8')).toBe('kept');
      expect((await cli(fx.root, ['--json', 'list'])).json.snapshots.length).toBeGreaterThanOrEqual(1);
    });
  }
});
