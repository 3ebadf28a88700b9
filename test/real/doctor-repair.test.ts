// doctor and repair on real crypts made by init: break them one way and two ways at once; each time
// doctor exits 1 naming the problem, `repair --dry-run` changes nothing, `repair --yes` heals it, doctor
// exits 0 and the user's files are intact.
import { appendFileSync, chmodSync, chownSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectHealed, fingerprint, hashFiles, initCrypt, problems, type InitCrypt } from '../helpers/doctor.js';
import { skipReason } from '../helpers/env.js';
import { ids, sh } from '../helpers/host.js';
import { runCli, writeAnswers } from '../helpers/init.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite } from '../helpers/suite.js';
import { userHost } from '../helpers/scenes.js';

const skip = skipReason('root', 'btrfs', 'loop');

describe.skipIf(skip)(`doctor and repair ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();
  let scratch: Scratch;

  /** A crypt with some user data in active/. */
  async function setup(via: 'fstab' | 'systemd' | 'none' = 'fstab'): Promise<InitCrypt> {
    scratch = await suite.scratch();
    const c = await initCrypt(scratch, suite.bundle, { via });
    mkdirSync(path.join(c.crypt, 'active/data/sub'), { recursive: true });
    writeFileSync(path.join(c.crypt, 'active/data/notes.txt'), 'precious\n');
    writeFileSync(path.join(c.crypt, 'active/data/sub/blob.bin'), Buffer.alloc(300_000, 7));
    const healthy = c.cli('doctor', '--json');
    expect(healthy.code, JSON.stringify(healthy.json?.checks?.filter((k: { status: string }) => k.status !== 'ok'))).toBe(0);
    return c;
  }
  const data = (c: InitCrypt) => path.join(c.crypt, 'active/data');

  it('unmounted and its fstab line missing: mounts from the mount record and rewrites the line', async () => {
    const c = await setup('fstab');
    const files = hashFiles(data(c));
    sh(['umount', c.crypt]);
    writeFileSync(c.fstab, '# host lines stay\n');
    const human = c.cli('doctor');
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/\[BAD\] the crypt is not mounted at .*\(mount\.mounted\)\n\s+fix: lychd-crypt repair will mount/);
    expect(human.stdout).toMatch(/2 problem\(s\) found/);
    expectHealed(c, scratch.dir, ['mount.mounted', 'persist.fstab']);
    expect(sh(['findmnt', '-n', '-o', 'FSTYPE', '--mountpoint', c.crypt]).trim()).toBe('btrfs');
    expect(readFileSync(c.fstab, 'utf8')).toMatch(/^# host lines stay\n.* x-lychd-crypt|,x-lychd-crypt 0 0\n$/);
    expect(readFileSync(`${c.fstab}.lychd-crypt.bak`, 'utf8')).toBe('# host lines stay\n');
    expect(hashFiles(data(c))).toEqual(files);
  });

  it('unmounted with its image gone: doctor and repair say what to restore, nothing is attempted', async () => {
    const c = await setup('fstab');
    sh(['umount', c.crypt]);
    renameSync(c.image, `${c.image}.moved`);
    const doctor = c.cli('doctor', '--json');
    expect(doctor.code).toBe(1);
    expect(problems(doctor).sort()).toEqual(['mount.mounted', 'mount.source']);
    const before = fingerprint(scratch.dir);
    const repair = c.cli('repair', '--yes', '--json');
    expect(repair.code).toBe(1);
    expect(repair.json.plan.steps).toEqual([]);
    expect(repair.json.plan.manual.map((m: { id: string }) => m.id).sort()).toEqual(['mount.mounted', 'mount.source']);
    expect(fingerprint(scratch.dir)).toBe(before);
    renameSync(`${c.image}.moved`, c.image);
    expectHealed(c, scratch.dir, ['mount.mounted'], { dataDir: undefined });
    expect(readFileSync(path.join(data(c), 'notes.txt'), 'utf8')).toBe('precious\n');
  });

  it('duplicated and stale fstab lines are replaced by one', async () => {
    const c = await setup('fstab');
    const line = readFileSync(c.fstab, 'utf8');
    writeFileSync(c.fstab, `${line}${line.replace('noatime', 'relatime')}`);
    expectHealed(c, scratch.dir, ['persist.fstab'], { dataDir: data(c) });
    expect(readFileSync(c.fstab, 'utf8')).toBe(line);
  });

  it('systemd: a stale unit, a misnamed copy and a leftover fstab line (both persisted) are healed', async () => {
    const c = await setup('systemd');
    const unit = path.join(c.unitDir, c.unitName);
    const good = readFileSync(unit, 'utf8');
    writeFileSync(unit, good.replace('noatime', 'relatime'));
    writeFileSync(path.join(c.unitDir, 'wrong-name.mount'), good);
    writeFileSync(c.fstab, `${c.image} ${c.crypt} btrfs loop,noatime,x-lychd-crypt 0 0\n`);
    expectHealed(c, scratch.dir, ['persist.unit', 'persist.fstab'], { dataDir: data(c) });
    expect(readFileSync(unit, 'utf8')).toBe(good);
    expect(existsSync(path.join(c.unitDir, 'wrong-name.mount'))).toBe(false);
    expect(readFileSync(c.fstab, 'utf8')).toBe('');
    const v = sh(['systemd-analyze', 'verify', unit]);
    expect(v).toBe('');
  });

  it('missing snapshots/ and a stray staging subvolume', async () => {
    const c = await setup();
    rmSync(path.join(c.crypt, 'snapshots'), { recursive: true });
    sh(['btrfs', 'subvolume', 'snapshot', path.join(c.crypt, 'active'), path.join(c.crypt, '.staging-20260101T000000Z-x')]);
    expectHealed(c, scratch.dir, ['layout.snapshots', 'layout.staging'], { dataDir: data(c) });
    expect(existsSync(path.join(c.crypt, 'snapshots'))).toBe(true);
    expect(existsSync(path.join(c.crypt, '.staging-20260101T000000Z-x'))).toBe(false);
  });

  it('an incomplete snapshot (writable, no metadata) and orphan metadata', async () => {
    const c = await setup();
    const snaps = path.join(c.crypt, 'snapshots');
    // Writable: never a finished snapshot (a read-only one without metadata gets it rebuilt: output-repair.test.ts).
    sh(['btrfs', 'subvolume', 'snapshot', path.join(c.crypt, 'active'), path.join(snaps, '20260101T000000Z-half')]);
    writeFileSync(path.join(snaps, '20250101T000000Z-gone.json'), '{"format":1,"name":"20250101T000000Z-gone"}\n');
    expectHealed(c, scratch.dir, ['snapshots.incomplete', 'snapshots.orphan-meta'], { dataDir: data(c) });
    expect(sh(['ls', '-A', snaps]).trim()).toBe('');
  });

  it('wrong owners and modes, and the C attribute missing on an (empty-database) PGDATA file', async () => {
    const c = await setup();
    const pgdata = path.join(c.crypt, 'active/postgres');
    chownSync(path.join(c.crypt, 'active'), 0, 0);
    chmodSync(pgdata, 0o755);
    mkdirSync(path.join(pgdata, 'base'));
    sh(['chattr', '-C', path.join(pgdata, 'base')]);
    writeFileSync(path.join(pgdata, 'base/file'), 'x'.repeat(10_000)); // root-owned, inherits no C
    expectHealed(c, scratch.dir, ['owners.active', 'owners.pgdata', 'pgdata.nocow'], { dataDir: data(c) });
    expect(sh(['lsattr', '-d', path.join(pgdata, 'base/file')])).toMatch(/^\S*C\S* /);
    expect(readFileSync(path.join(pgdata, 'base/file'), 'utf8')).toBe('x'.repeat(10_000));
  });

  it('the crypt mounted twice on its mount point, and the runtime command of another version', async () => {
    const c = await setup();
    sh(['mount', '--bind', c.crypt, c.crypt]); // the same filesystem stacked on itself
    rmSync(c.bin); // the link init made, replaced by a program of the single-file kind
    writeFileSync(c.bin, '#!/bin/sh\necho 0.0.1\n', { mode: 0o755 });
    expectHealed(c, scratch.dir, ['mount.twice', 'runtime.installed'], { dataDir: data(c) });
    expect(sh(['findmnt', '-rn', '--mountpoint', c.crypt]).trim().split('\n')).toHaveLength(1);
    expect(sh([c.bin, '--version']).trim()).toMatch(/^\d+\.\d+\.\d+$/);

    // One file of the installed runtime directory (a vendored package) altered: found against its manifest, the build reinstalled.
    const dir = path.dirname(realpathSync(c.bin));
    const chunk = readdirSync(dir).find((f) => f.startsWith('vendor-'))!;
    appendFileSync(path.join(dir, chunk), '\n// altered\n');
    expectHealed(c, scratch.dir, ['runtime.installed'], { dataDir: data(c) });
    expect(readFileSync(path.join(dir, chunk), 'utf8')).not.toContain('// altered');
  });

  it('a snapshot killed after the subvolume was made, before its metadata: repair finishes the recovery', async () => {
    const c = await setup();
    const killed = runCli(suite.bundle, ['--crypt', c.crypt, 'snapshot', '--label', 'x', '--mode', 'none'], { LYCHD_CRYPT_FAULT: 'snapshot:after-snap' });
    expect(killed.code, killed.stderr).toBe(-1);
    const repair = expectHealed(c, scratch.dir, ['journal.pending'], { dataDir: data(c) });
    expect(repair.json.plan.steps).toEqual([]); // recovery ran first, under the lock; nothing else was left
    expect(repair.json.done).toEqual([expect.objectContaining({ kind: 'recover-interrupted', result: expect.stringMatching(/deleted the incomplete snapshot/) })]);
    expect(sh(['ls', '-A', path.join(c.crypt, 'snapshots')]).trim()).toBe('');
  });

  it('things a snapshot would miss are reported for a person: a nested subvolume in active/, pg_wal as a symlink', async () => {
    const c = await setup();
    sh(['btrfs', 'subvolume', 'create', path.join(c.crypt, 'active/data/nested')]);
    mkdirSync(scratch.path('wal-elsewhere'));
    symlinkSync(scratch.path('wal-elsewhere'), path.join(c.crypt, 'active/postgres/pg_wal'));
    const pg = ids('postgres');
    lchownSync(path.join(c.crypt, 'active/postgres/pg_wal'), pg.uid, pg.gid);
    const doctor = c.cli('doctor', '--json');
    expect(doctor.code).toBe(1);
    expect(problems(doctor).sort()).toEqual(['layout.nested', 'pgdata.wal']);
    const before = fingerprint(scratch.dir);
    const repair = c.cli('repair', '--yes', '--json');
    expect(repair.code).toBe(1);
    expect(repair.json.plan.manual.map((m: { id: string }) => m.id).sort()).toEqual(['layout.nested', 'pgdata.wal']);
    expect(fingerprint(scratch.dir)).toBe(before);
  });

  it('the mount record missing underneath the mount point is written again', async () => {
    const c = await setup('none');
    sh(['umount', c.crypt]);
    rmSync(path.join(c.crypt, '.lychd-crypt-mount.json'));
    sh(['mount', '-o', 'loop', c.image, c.crypt]);
    expectHealed(c, scratch.dir, ['mount.record'], { dataDir: data(c) });
    sh(['umount', c.crypt]);
    expect(JSON.parse(readFileSync(path.join(c.crypt, '.lychd-crypt-mount.json'), 'utf8'))).toMatchObject({ method: 'loopback', image: c.image });
  });

  it('without --yes and without a terminal, destructive steps are refused (exit 3) and nothing changes', async () => {
    const c = await setup();
    sh(['btrfs', 'subvolume', 'create', path.join(c.crypt, '.staging-x')]);
    const before = fingerprint(scratch.dir);
    const r = c.cli('repair');
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toMatch(/not done \(no terminal and no --yes/);
    expect(r.stdout).toMatch(/repair --yes/);
    expect(fingerprint(scratch.dir)).toBe(before);
  });

  it('native (on a Btrfs host): missing snapshots/, active/ owned by someone else', async () => {
    scratch = await suite.scratch();
    const { user, crypt } = await userHost(scratch, 'btrfs', 400);
    const answers = writeAnswers(scratch, { crypt: { path: crypt, user: user.name }, method: 'native' });
    const init = runCli(suite.bundle, ['init', '--answers', answers, '--yes', '--json']);
    expect(init.code, init.stderr).toBe(0);
    const c = { cli: (...a: string[]) => runCli(suite.bundle, ['--crypt', crypt, ...a]) };
    writeFileSync(path.join(crypt, 'active/file'), 'precious');
    rmSync(path.join(crypt, 'snapshots'), { recursive: true });
    chownSync(path.join(crypt, 'active'), 0, 0);
    expectHealed(c, scratch.dir, ['layout.snapshots', 'owners.active'], { dataDir: path.join(crypt, 'active') });
    expect(lstatSync(path.join(crypt, 'active')).uid).toBe(user.uid);
  });

  it('a damaged registry entry is named, and repair changes nothing', async () => {
    const c = await setup();
    const entry = path.join(scratch.path('registry'), `${c.user.name}.json`);
    writeFileSync(entry, '{"version": 1, "crypt": ');
    const doctor = c.cli('doctor', '--json');
    expect(doctor.code).toBe(1);
    expect(doctor.json.error.message).toMatch(/registry entry .* is not valid JSON/);
    expect(doctor.json.error.hint).toMatch(/init/);
    const before = fingerprint(scratch.dir);
    expect(c.cli('repair', '--yes').code).toBe(1);
    expect(fingerprint(scratch.dir)).toBe(before);
  });

  it('a plain directory with data on ext4 (a layout made by hand): doctor points to init, repair changes nothing', async () => {
    scratch = await suite.scratch();
    const dir = scratch.path('handmade');
    mkdirSync(path.join(dir, 'postgres'), { recursive: true });
    writeFileSync(path.join(dir, 'file'), 'data');
    // Not a registered crypt: doctor and repair say so (exit 2) and point to init, which migrates the data.
    const doctor = runCli(suite.bundle, ['--crypt', dir, 'doctor', '--json']);
    expect(doctor.code).toBe(2);
    expect(doctor.json.error.message).toMatch(/no registered crypt at .*handmade/);
    expect(doctor.json.error.hint).toMatch(/lychd-crypt (--registry \S+ )?init/);
    const before = fingerprint(scratch.dir);
    const repair = runCli(suite.bundle, ['--crypt', dir, 'repair', '--yes']);
    expect(repair.code).toBe(2);
    expect(repair.stderr).toMatch(/lychd-crypt (--registry \S+ )?init/);
    expect(fingerprint(scratch.dir)).toBe(before);
  });
});
