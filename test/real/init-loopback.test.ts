// Method B for real: a loopback image on an ext4 host and on an xfs host (scratch filesystems), persisted
// by an fstab line and by a systemd unit, through the real CLI. A second run changes nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, statfsSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { ids, sh } from '../helpers/host.js';
import { attrs, fstypeAt, isSubvolume, owner, runCli, writeAnswers } from '../helpers/init.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite } from '../helpers/suite.js';
import { hostFs } from '../helpers/scenes.js';
import { userHost } from '../helpers/scenes.js';

const skip = skipReason('root', 'btrfs', 'xfs', 'loop');

describe.skipIf(skip)(`init, Method B (loopback) ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();
  let scratch: Scratch;

  for (const hostFs of ['ext4', 'xfs'] as const) {
    for (const via of ['fstab', 'systemd'] as const) {
      it(`on an ${hostFs} host, persisted via ${via}`, async () => {
        scratch = await suite.scratch();
        const { host, user, crypt } = await userHost(scratch, hostFs, 512);
        const image = path.join(host, 'images/crypt.img');
        const answers = writeAnswers(scratch, {
          crypt: { path: crypt, user: user.name },
          method: 'auto',
          loopback: { image, size: '256M' },
          persist: { via },
        });

        const first = runCli(suite.bundle, ['init', '--answers', answers, '--yes', '--json']);
        expect(first.code, first.stderr).toBe(0);
        expect(first.json.ok).toBe(true);
        expect(first.json.config.method).toBe('loopback');
        expect(first.json.changed).toBeGreaterThan(5);

        // The crypt is a mounted btrfs with the layout, attributes, owners and modes of the SPEC.
        expect(fstypeAt(crypt)).toBe('btrfs');
        expect(statSync(image).size).toBe(256 * 2 ** 20);
        expect(isSubvolume(path.join(crypt, 'active'))).toBe(true);
        expect(owner(path.join(crypt, 'active'))).toMatchObject({ uid: user.uid, gid: user.gid });
        const pg = ids('postgres');
        expect(owner(path.join(crypt, 'active/postgres'))).toEqual({ ...pg, mode: 0o700 });
        expect(attrs(path.join(crypt, 'active/postgres'))).toContain('C');
        expect(existsSync(path.join(crypt, 'snapshots'))).toBe(true);
        // State outside the crypt (root's, 0711), the definition in the root-owned registry.
        expect(owner(scratch.path(`state/${user.name}`))).toEqual({ uid: 0, gid: 0, mode: 0o711 });
        const config = JSON.parse(readFileSync(scratch.path(`registry/${user.name}.json`), 'utf8')).config;
        expect(config).toMatchObject({ crypt: { path: crypt, user: user.name, uid: user.uid }, method: 'loopback', persist: { via } });
        // The runtime command is installed and runs: a link to the entry of a root-owned runtime directory.
        const bin = scratch.path('bin/lychd-crypt');
        const entry = realpathSync(bin);
        expect(path.dirname(path.dirname(entry))).toBe(scratch.path('lib/lychd-crypt'));
        expect(owner(entry)).toEqual({ uid: 0, gid: 0, mode: 0o755 });
        expect(owner(path.dirname(entry))).toEqual({ uid: 0, gid: 0, mode: 0o755 });
        expect(sh([bin, '--version']).trim()).toMatch(/\d+\.\d+\.\d+/);

        const fstab = scratch.path('etc/fstab');
        const unitDir = scratch.path('etc/systemd/system');
        const unitName = sh(['systemd-escape', '--path', '--suffix=mount', crypt]).trim();
        if (via === 'fstab') {
          expect(readFileSync(fstab, 'utf8')).toBe(`${image} ${crypt} btrfs loop,noatime,compress=zstd:1,x-lychd-crypt 0 0\n`);
          expect(existsSync(path.join(unitDir, unitName))).toBe(false);
          const v = spawnSync('findmnt', ['--verify', '--tab-file', fstab], { encoding: 'utf8' });
          expect(v.status).toBe(0);
          expect(v.stderr).toMatch(/^0 parse errors, 0 errors/m);
        } else {
          expect(existsSync(fstab)).toBe(false);
          const unit = path.join(unitDir, unitName);
          expect(readFileSync(unit, 'utf8')).toContain(`What=${image}\nWhere=${crypt}\nType=btrfs\nOptions=loop,noatime,compress=zstd:1\n`);
          const v = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
          expect(v.stdout + v.stderr).toBe('');
          expect(v.status).toBe(0);
        }

        // A second run changes nothing and says so.
        const second = runCli(suite.bundle, ['init', '--answers', answers, '--yes', '--json']);
        expect(second.code, second.stderr).toBe(0);
        expect(second.json.changed).toBe(0);
        expect(second.json.steps.every((s: { status: string }) => s.status === 'unchanged')).toBe(true);
        const human = runCli(suite.bundle, ['init', '--answers', answers, '--yes']);
        expect(human.stdout).toMatch(/^nothing to do/);

        // Unmounted, the mount record underneath says how to mount it again.
        sh(['umount', crypt]);
        const record = JSON.parse(readFileSync(path.join(crypt, '.lychd-crypt-mount.json'), 'utf8'));
        expect(record).toMatchObject({ method: 'loopback', image, mount: { what: image, where: crypt, options: ['loop', 'noatime', 'compress=zstd:1'] } });
        if (via === 'fstab') {
          // The fstab line remounts it.
          sh(['mount', '--fstab', fstab, crypt]);
          expect(fstypeAt(crypt)).toBe('btrfs');
          expect(existsSync(path.join(crypt, 'active/postgres'))).toBe(true);
        } else {
          // init mounts it again (and still changes nothing else).
          const third = runCli(suite.bundle, ['init', '--answers', answers, '--yes', '--json']);
          expect(third.code, third.stderr).toBe(0);
          expect(third.json.steps.filter((s: { status: string }) => s.status === 'done').map((s: { kind: string }) => s.kind)).toEqual(['mount']);
        }
        expect(fstypeAt(crypt)).toBe('btrfs');
      });
    }
  }
  it('changed answers converge: fstab → systemd rewrites the record underneath the mount, never both', async () => {
    scratch = await suite.scratch();
    const host = await hostFs(scratch, 'ext4', 512);
    const crypt = path.join(host, 'crypt');
    const image = path.join(host, 'crypt.img');
    const base = { crypt: { path: crypt }, loopback: { image, size: '256M' } };
    const first = runCli(suite.bundle, ['init', '--answers', writeAnswers(scratch, { ...base, persist: { via: 'fstab' } }), '--yes', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const fstab = scratch.path('etc/fstab');
    expect(readFileSync(fstab, 'utf8')).toContain('x-lychd-crypt');

    const switched = runCli(suite.bundle, ['init', '--answers', writeAnswers(scratch, { ...base, persist: { via: 'systemd' } }), '--yes', '--json']);
    expect(switched.code, switched.stderr).toBe(0);
    const done = switched.json.steps.filter((s: { status: string }) => s.status === 'done').map((s: { kind: string }) => s.kind);
    expect(done).toEqual(['write-mount-record', 'remove-fstab-line', 'write-mount-unit', 'register']);
    expect(readFileSync(fstab, 'utf8')).toBe('');
    expect(readFileSync(`${fstab}.lychd-crypt.bak`, 'utf8')).toContain('x-lychd-crypt');
    expect(JSON.parse(readFileSync(scratch.path('registry/root.json'), 'utf8')).config.persist.via).toBe('systemd');
    // No bind mount of this test's host filesystem is left behind (other tests may hold their own meanwhile).
    const hostSource = sh(['findmnt', '-n', '-o', 'SOURCE', '--mountpoint', host]).trim();
    const leftovers = sh(['findmnt', '-rn', '-o', 'TARGET,SOURCE'])
      .split('\n')
      .filter((l) => l.includes('lychd-crypt-under') && l.split(' ')[1] === hostSource);
    expect(leftovers).toEqual([]);
    sh(['umount', crypt]);
    const record = JSON.parse(readFileSync(path.join(crypt, '.lychd-crypt-mount.json'), 'utf8'));
    expect(record.persist).toMatchObject({ via: 'systemd', unit: sh(['systemd-escape', '--path', '--suffix=mount', crypt]).trim() });
  });
  it('after the crypt was unmounted (e.g. a reboot without persistence), minimal answers just mount it again', async () => {
    scratch = await suite.scratch();
    const host = await hostFs(scratch, 'ext4', 512);
    const crypt = path.join(host, 'crypt');
    const image = path.join(host, 'crypt.img');
    const first = runCli(suite.bundle, ['init', '--answers', writeAnswers(scratch, { crypt: { path: crypt }, loopback: { image, size: '256M' }, persist: { via: 'none' } }), '--yes', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json.notes.join()).toMatch(/persist.via is none/);
    sh(['umount', crypt]);
    // Only the path: the mount record underneath names the method, the image, and config.json the rest.
    const minimal = writeAnswers(scratch, { crypt: { path: crypt } }, 'minimal.yaml');
    const again = runCli(suite.bundle, ['init', '--answers', minimal, '--yes', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.config).toMatchObject({ method: 'loopback', loopback: { image, sizeBytes: 256 * 2 ** 20 }, persist: { via: 'none' } });
    expect(again.json.steps.filter((s: { status: string }) => s.status === 'done').map((s: { kind: string }) => s.kind)).toEqual(['mount']);
    expect(fstypeAt(crypt)).toBe('btrfs');
  });
  it('a larger loopback.size grows the mounted image and its filesystem; a smaller one is refused (exit 2)', async () => {
    scratch = await suite.scratch();
    const host = await hostFs(scratch, 'ext4', 700);
    const crypt = path.join(host, 'crypt');
    const image = path.join(host, 'crypt.img');
    const answersAt = (size: string) => writeAnswers(scratch, { crypt: { path: crypt }, loopback: { image, size } }, `a-${size}.yaml`);
    expect(runCli(suite.bundle, ['init', '--answers', answersAt('256M'), '--yes']).code).toBe(0);
    const before = statfsSync(crypt).blocks * statfsSync(crypt).bsize;
    const grown = runCli(suite.bundle, ['init', '--answers', answersAt('400M'), '--yes', '--json']);
    expect(grown.code, grown.stderr).toBe(0);
    expect(grown.json.steps.filter((s: { status: string }) => s.status === 'done').map((s: { kind: string }) => s.kind)).toEqual(['grow-image', 'register']);
    expect(statSync(image).size).toBe(400 * 2 ** 20);
    const after = statfsSync(crypt).blocks * statfsSync(crypt).bsize;
    expect(after - before).toBeGreaterThan(100 * 2 ** 20);
    expect(runCli(suite.bundle, ['init', '--answers', answersAt('400M'), '--yes', '--json']).json.changed).toBe(0);
    const shrink = runCli(suite.bundle, ['init', '--answers', answersAt('300M'), '--yes']);
    expect(shrink.code).toBe(2);
    expect(shrink.stderr).toMatch(/smaller than the existing image/);
    expect(statSync(image).size).toBe(400 * 2 ** 20);
  });
});
