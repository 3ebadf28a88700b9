// Native on a Btrfs host (layout in place, nothing mounted or persisted), and --dry-run that creates nothing.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { ids, sh } from '../helpers/host.js';
import { attrs, isSubvolume, owner, runCli, writeAnswers } from '../helpers/init.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite } from '../helpers/suite.js';
import { hostFs, userHost } from '../helpers/scenes.js';

const skip = skipReason('root', 'btrfs', 'loop');

function listTree(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).sort();
}
// Other test files mount and attach loops in parallel: only what lies under this test's scratch dir counts.
const mounts = (under = '/') => sh(['findmnt', '-rn', '-o', 'TARGET']).split('\n').filter((t) => t.startsWith(under)).join('\n');
const loops = (under: string) => sh(['losetup', '-l', '-n', '-O', 'BACK-FILE']).split('\n').filter((b) => b.includes(under)).join('\n');

describe.skipIf(skip)(`init, native and dry-run ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();
  let scratch: Scratch;

  it('native on a Btrfs host: the layout in place, no image, no mount, no persistence', async () => {
    scratch = await suite.scratch();
    const { user, crypt } = await userHost(scratch, 'btrfs', 300, 'srv/lychd');
    const answers = writeAnswers(scratch, { crypt: { path: crypt, user: user.name } });
    const r = runCli(suite.bundle, ['init', '--answers', answers, '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.config.method).toBe('native');
    expect(r.json.config.persist.via).toBe('none');
    expect(mounts()).not.toContain(crypt);
    expect(isSubvolume(path.join(crypt, 'active'))).toBe(true);
    expect(owner(path.join(crypt, 'active'))).toMatchObject({ uid: user.uid, gid: user.gid });
    expect(owner(path.join(crypt, 'active/postgres'))).toEqual({ ...ids('postgres'), mode: 0o700 });
    expect(attrs(path.join(crypt, 'active/postgres'))).toContain('C');
    expect(existsSync(path.join(crypt, 'snapshots'))).toBe(true);
    expect(JSON.parse(readFileSync(scratch.path(`registry/${user.name}.json`), 'utf8')).config.method).toBe('native');
    expect(existsSync(scratch.path('etc/fstab'))).toBe(false);
    expect(existsSync(scratch.path('etc/systemd/system'))).toBe(false);
    expect(existsSync(path.join(crypt, '.lychd-crypt-mount.json'))).toBe(false);
    const again = runCli(suite.bundle, ['init', '--answers', answers, '--yes', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.changed).toBe(0);
  });

  it('native asked on an ext4 host is a usage error (exit 2), nothing created', async () => {
    scratch = await suite.scratch();
    const host = await hostFs(scratch, 'ext4', 300);
    const answers = writeAnswers(scratch, { crypt: { path: path.join(host, 'crypt') }, method: 'native' });
    const r = runCli(suite.bundle, ['init', '--answers', answers, '--yes', '--json']);
    expect(r.code).toBe(2);
    expect(r.json.error.message).toMatch(/native needs the crypt path on Btrfs/);
    expect(listTree(host)).toEqual(['lost+found']);
  });

  it('--dry-run prints the exact plan and creates nothing', async () => {
    scratch = await suite.scratch();
    const host = await hostFs(scratch, 'ext4', 512);
    const crypt = path.join(host, 'crypt');
    writeFileSync(path.join(host, 'marker'), '');
    const answers = writeAnswers(scratch, { crypt: { path: crypt }, loopback: { image: path.join(host, 'img/crypt.img'), size: '256M' } });
    const treeBefore = listTree(scratch.dir);
    const mountsBefore = mounts(scratch.dir);
    const loopsBefore = loops(scratch.dir);

    const human = runCli(suite.bundle, ['init', '--answers', answers, '--dry-run']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`$ mount -t btrfs -o loop,noatime,compress=zstd:1 ${host}/img/crypt.img ${crypt}`);
    expect(human.stdout).toContain(`$ truncate -s 268435456 ${host}/img/crypt.img`);
    expect(human.stdout).toMatch(/mkfs\.btrfs -L lychd -U [0-9a-f-]{36} /);
    expect(human.stdout).toContain(`register the crypt`);
    expect(human.stdout).toContain('dry run: nothing was changed');

    const json = runCli(suite.bundle, ['init', '--answers', answers, '--dry-run', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(json.json.dryRun).toBe(true);
    const kinds = json.json.plan.steps.map((s: { kind: string }) => s.kind);
    expect(kinds).toEqual(expect.arrayContaining(['create-image', 'mkfs-btrfs', 'write-mount-record', 'mount', 'write-fstab-line', 'create-subvolume', 'register', 'install-runtime']));
    const mountStep = json.json.plan.steps.find((s: { kind: string }) => s.kind === 'mount');
    expect(mountStep.actions.commands).toEqual([['mount', '-t', 'btrfs', '-o', 'loop,noatime,compress=zstd:1', `${host}/img/crypt.img`, crypt]]);

    expect(listTree(scratch.dir)).toEqual(treeBefore);
    expect(mounts(scratch.dir)).toBe(mountsBefore);
    expect(loops(scratch.dir)).toBe(loopsBefore);
  });

  it('--answers without --yes and without a terminal is a usage error (exit 2), nothing created', async () => {
    scratch = await suite.scratch();
    const answers = writeAnswers(scratch, { crypt: { path: scratch.path('crypt') }, loopback: { image: scratch.path('img/crypt.img'), size: '256M' } });
    const r = runCli(suite.bundle, ['init', '--answers', answers]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--yes/);
    expect(existsSync(scratch.path('crypt'))).toBe(false);
    expect(existsSync(scratch.path('img'))).toBe(false);
  });
});
