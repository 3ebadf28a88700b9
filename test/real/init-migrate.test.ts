// Existing data at the crypt path is migrated into active/ (never hidden under the mount; the original is
// kept as a backup), and a crypt path full of shell metacharacters is only ever a path.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync, chownSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { sh } from '../helpers/host.js';
import { fstypeAt, isSubvolume, owner, runCli, writeAnswers } from '../helpers/init.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite } from '../helpers/suite.js';
import { hostFs, userHost } from '../helpers/scenes.js';

const skip = skipReason('root', 'btrfs', 'loop');

function seedData(dir: string, uid: number, gid: number): void {
  mkdirSync(path.join(dir, 'docs/deep'), { recursive: true });
  writeFileSync(path.join(dir, 'docs/deep/a.txt'), 'alpha\n');
  writeFileSync(path.join(dir, '.hidden'), 'h\n');
  writeFileSync(path.join(dir, '-dash'), 'd\n');
  symlinkSync('docs/deep/a.txt', path.join(dir, 'link'));
  for (const p of ['docs', 'docs/deep', 'docs/deep/a.txt', '.hidden', '-dash', '.']) chownSync(path.join(dir, p), uid, gid);
}

function expectData(dir: string, uid: number): void {
  expect(readFileSync(path.join(dir, 'docs/deep/a.txt'), 'utf8')).toBe('alpha\n');
  expect(readFileSync(path.join(dir, '.hidden'), 'utf8')).toBe('h\n');
  expect(readFileSync(path.join(dir, '-dash'), 'utf8')).toBe('d\n');
  expect(readlinkSync(path.join(dir, 'link'))).toBe('docs/deep/a.txt');
  expect(lstatSync(path.join(dir, 'docs/deep/a.txt')).uid).toBe(uid);
}

/** After a native migration: the data in active/, the layout alone at the crypt path, one backup beside it with the original, and a re-run changes nothing. */
function expectNativeMigrated(cli: string, host: string, crypt: string, uid: number, answers: string): void {
  expectData(path.join(crypt, 'active'), uid);
  expect(readdirSync(crypt).sort()).toEqual(['active', 'snapshots']);
  const backups = readdirSync(host).filter((n) => n.startsWith('crypt.pre-lychd-crypt-'));
  expect(backups).toHaveLength(1);
  expectData(path.join(host, backups[0]!), uid);
  expect(runCli(cli, ['init', '--answers', answers, '--yes', '--json']).json.changed).toBe(0);
}

describe.skipIf(skip)(`init migrates existing data ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();
  let scratch: Scratch;

  it('loopback: data copied into active/, original kept aside, nothing hidden under the mount', async () => {
    scratch = await suite.scratch();
    const { host, user, crypt } = await userHost(scratch, 'ext4', 512);
    mkdirSync(crypt);
    seedData(crypt, user.uid, user.gid);
    const answers = writeAnswers(scratch, { crypt: { path: crypt, user: user.name }, loopback: { image: path.join(host, 'crypt.img'), size: '256M' } });
    const r = runCli(suite.bundle, ['init', '--answers', answers, '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.notes.join('\n')).toMatch(/copied into/);

    expect(fstypeAt(crypt)).toBe('btrfs');
    expect(isSubvolume(path.join(crypt, 'active'))).toBe(true);
    expectData(path.join(crypt, 'active'), user.uid);
    expect(owner(path.join(crypt, 'active'))).toMatchObject({ uid: user.uid, gid: user.gid });
    const backups = readdirSync(host).filter((n) => n.startsWith('crypt.pre-lychd-crypt-'));
    expect(backups).toHaveLength(1);
    expectData(path.join(host, backups[0]!), user.uid);
    expect(readdirSync(host).filter((n) => n.includes('migrate'))).toEqual([]);

    const again = runCli(suite.bundle, ['init', '--answers', answers, '--yes', '--json']);
    expect(again.json.changed, again.stderr).toBe(0);

    // Underneath the mount there is only the mount record: nothing was hidden.
    sh(['umount', crypt]);
    expect(readdirSync(crypt)).toEqual(['.lychd-crypt-mount.json']);
  });

  it('native: data copied into the new active/ subvolume, original kept aside', async () => {
    scratch = await suite.scratch();
    const { host, user, crypt } = await userHost(scratch, 'btrfs', 300);
    mkdirSync(crypt);
    seedData(crypt, user.uid, user.gid);
    const answers = writeAnswers(scratch, { crypt: { path: crypt, user: user.name }, method: 'native' });
    const r = runCli(suite.bundle, ['init', '--answers', answers, '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(isSubvolume(path.join(crypt, 'active'))).toBe(true);
    expectNativeMigrated(suite.bundle, host, crypt, user.uid, answers);
  });

  it('native: a crash right after the original moved aside is finished by the next run', async () => {
    scratch = await suite.scratch();
    const { host, user, crypt } = await userHost(scratch, 'btrfs', 300);
    mkdirSync(crypt);
    seedData(crypt, user.uid, user.gid);
    const answers = writeAnswers(scratch, { crypt: { path: crypt, user: user.name }, method: 'native' });
    const crashed = spawnSync('node', [suite.bundle, 'init', '--answers', answers, '--yes'], { env: { ...process.env, LYCHD_CRYPT_FAULT: 'init-after-move-aside' } });
    expect(crashed.signal).toBe('SIGKILL');
    expect(readdirSync(crypt)).toEqual(['.lychd-crypt-migrating.json']);
    const r = runCli(suite.bundle, ['init', '--answers', answers, '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expectNativeMigrated(suite.bundle, host, crypt, user.uid, answers);
  });

  it('loopback: a crash in the middle of the migration is finished by the next run', async () => {
    scratch = await suite.scratch();
    const { host, user, crypt } = await userHost(scratch, 'ext4', 512);
    mkdirSync(crypt);
    seedData(crypt, user.uid, user.gid);
    const answers = writeAnswers(scratch, { crypt: { path: crypt, user: user.name }, loopback: { image: path.join(host, 'crypt.img'), size: '256M' } });
    const crashed = spawnSync('node', [suite.bundle, 'init', '--answers', answers, '--yes'], { env: { ...process.env, LYCHD_CRYPT_FAULT: 'init-after-copy-data' } });
    expect(crashed.signal).toBe('SIGKILL');
    // The original is still in place, complete.
    expectData(crypt, user.uid);
    const r = runCli(suite.bundle, ['init', '--answers', answers, '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(fstypeAt(crypt)).toBe('btrfs');
    expectData(path.join(crypt, 'active'), user.uid);
    expect(readdirSync(host).filter((n) => n.includes('migrate'))).toEqual([]);
    expect(runCli(suite.bundle, ['init', '--answers', answers, '--yes', '--json']).json.changed).toBe(0);
  });

  for (const via of ['fstab', 'systemd'] as const) {
    it(`a crypt path with shell metacharacters is only ever a path (${via})`, async () => {
      scratch = await suite.scratch();
      const host = await hostFs(scratch, 'ext4', 512);
      // `$`, quotes, backquotes and backslashes are refused in a crypt path (pg_ctl hands it to /bin/sh inside
      // double quotes: test/real/trust-state.test.ts); everything else a shell would act on stays a path.
      const crypt = path.join(host, `;touch x&|<a> (b)* {c,d}`);
      const image = path.join(host, `img $(touch y)`, 'c.img');
      scratch.defer(() => void spawnSync('umount', [crypt]));
      const work = scratch.path('cwd');
      mkdirSync(work);
      const answers = writeAnswers(scratch, { crypt: { path: crypt }, loopback: { image, size: '256M' }, persist: { via } });
      const r = spawnSync('node', [suite.bundle, 'init', '--answers', answers, '--yes', '--json'], { encoding: 'utf8', cwd: work });
      expect(r.status, r.stderr).toBe(0);
      expect(fstypeAt(crypt)).toBe('btrfs');
      expect(existsSync(path.join(crypt, 'active/postgres'))).toBe(true);
      expect(existsSync(image)).toBe(true);
      // No command ran through a shell: nothing named x or y appeared anywhere near.
      for (const dir of [work, host, scratch.dir, '/']) {
        expect(existsSync(path.join(dir, 'x')), dir).toBe(false);
        expect(existsSync(path.join(dir, 'y')), dir).toBe(false);
      }
      if (via === 'fstab') {
        const fstab = scratch.path('etc/fstab');
        expect(readFileSync(fstab, 'utf8')).toContain('\\040');
        sh(['umount', crypt]);
        sh(['mount', '--fstab', fstab, crypt]);
        expect(fstypeAt(crypt)).toBe('btrfs');
      } else {
        const unitName = sh(['systemd-escape', '--path', '--suffix=mount', crypt]).trim();
        const unit = scratch.path('etc/systemd/system', unitName);
        const v = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
        expect(v.stdout + v.stderr).toBe('');
      }
      const again = spawnSync('node', [suite.bundle, 'init', '--answers', answers, '--yes', '--json'], { encoding: 'utf8', cwd: work });
      expect(JSON.parse(again.stdout).data.changed, again.stderr).toBe(0);
    });
  }
});
