// Mount persistence for real, under a real systemd (test/helpers/systemd.ts): `init` with persist.via
// systemd lets the unit mount the crypt (daemon-reload + enable --now, no direct mount), and after a
// reboot the unit alone mounts it; an fstab line is mounted at boot through systemd-fstab-generator.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { makeUser, sh, type TestUser } from '../helpers/host.js';
import { buildCli, writeAnswers } from '../helpers/init.js';
import { fileScratch } from '../helpers/suite.js';
import { bootSystemd, type Container } from '../helpers/systemd.js';
import { cliIn, mountIn, unitProps } from '../helpers/systemd-cli.js';

const skip = skipReason('root', 'systemd', 'btrfs', 'loop');

const doneKinds = (r: { json: { steps: { kind: string; status: string }[] } }) => r.json.steps.filter((s) => s.status === 'done').map((s) => s.kind);

describe.skipIf(skip)(`mount persistence under a real systemd ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const shared = fileScratch(120_000);
  let box: Container;
  let bundle: string;
  let user: TestUser;
  beforeAll(async () => {
    bundle = buildCli(shared.scratch);
    user = makeUser(shared.scratch); // before the boot: the container sees the host's passwd as it is then
    box = await bootSystemd({ scratch: shared.scratch });
  }, 180_000);

  it('persist.via systemd: init mounts the crypt through its unit; after a reboot the unit alone mounts it', async () => {
    const crypt = shared.scratch.path('unit/crypt');
    const image = shared.scratch.path('unit/img/crypt.img');
    const unit = sh(['systemd-escape', '--path', '--suffix=mount', crypt]).trim();
    const answers = writeAnswers(shared.scratch, { crypt: { path: crypt, user: user.name }, method: 'loopback', loopback: { image, size: '256M' }, persist: { via: 'systemd' } }, 'unit.yaml');

    const dry = await cliIn(box, bundle, ['init', '--answers', answers, '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const first = await cliIn(box, bundle, ['init', '--answers', answers, '--yes', '--json']);
    expect(first.code, first.stderr).toBe(0);
    // No direct mount: the unit was written, enabled and started; systemd mounted the crypt.
    expect(doneKinds(first)).not.toContain('mount');
    expect(doneKinds(first)).toEqual(expect.arrayContaining(['write-mount-unit', 'enable-mount-unit']));
    expect(JSON.stringify(dry.json)).toContain(`"systemctl","enable","--now"`);
    expect((await box.systemctl('is-active', unit)).stdout.trim()).toBe('active');
    expect((await box.systemctl('is-enabled', unit)).stdout.trim()).toBe('enabled');
    expect(await unitProps(box, unit, ['What', 'Where'])).toEqual({ What: expect.stringMatching(/^\/dev\/loop\d+$/), Where: crypt });
    // The unit outside systemd's search path was linked into it (the link lives in the container's /etc).
    expect((await box.exec(['readlink', `/etc/systemd/system/${unit}`])).stdout.trim()).toBe(shared.scratch.path('etc/systemd/system', unit));
    expect(await mountIn(box, crypt)).toMatchObject({ fstype: 'btrfs' });
    expect((await box.exec(['test', '-d', path.join(crypt, 'active/postgres')])).code).toBe(0);
    // The mount lives in the container's namespace only: the host never saw it.
    expect(existsSync(path.join(crypt, 'active'))).toBe(false);
    // A second run changes nothing.
    const second = await cliIn(box, bundle, ['init', '--answers', answers, '--yes', '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.json.changed).toBe(0);

    await box.reboot();
    expect((await box.systemctl('is-active', unit)).stdout.trim()).toBe('active');
    expect(await mountIn(box, crypt)).toMatchObject({ fstype: 'btrfs' });
    expect((await box.exec(['test', '-d', path.join(crypt, 'active/postgres')])).code).toBe(0);
    // Stopping the unit unmounts the crypt and detaches its loop device; init brings it back through the unit.
    expect((await box.systemctl('stop', unit)).code).toBe(0);
    expect(await mountIn(box, crypt)).toBeNull();
    const again = await cliIn(box, bundle, ['init', '--answers', answers, '--yes', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(doneKinds(again)).toEqual(['enable-mount-unit']);
    expect((await box.systemctl('is-active', unit)).stdout.trim()).toBe('active');
  }, 240_000);

  it('persist.via fstab: the line in the container\'s /etc/fstab is mounted at boot by systemd-fstab-generator', async () => {
    const crypt = shared.scratch.path('fstab/crypt');
    const image = shared.scratch.path('fstab/img/crypt.img');
    const unit = sh(['systemd-escape', '--path', '--suffix=mount', crypt]).trim();
    // /etc/fstab inside the container lives in its overlay's upper layer: the host's file is never touched.
    // A second crypt of the same user needs its own registry name.
    const answers = writeAnswers(shared.scratch, { crypt: { path: crypt, user: user.name, name: `${user.name}-fstab` }, method: 'loopback', loopback: { image, size: '256M' }, persist: { via: 'fstab', fstab: '/etc/fstab' } }, 'fstab.yaml');
    const first = await cliIn(box, bundle, ['init', '--answers', answers, '--yes', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect((await box.exec(['cat', '/etc/fstab'])).stdout).toContain(`${image} ${crypt} btrfs loop,noatime,compress=zstd:1,x-lychd-crypt 0 0`);
    expect(sh(['cat', '/etc/fstab'])).not.toContain('x-lychd-crypt');
    // After the daemon-reload, the generated unit owns the mount init made.
    expect((await box.systemctl('is-active', unit)).stdout.trim()).toBe('active');

    await box.reboot();
    expect(await unitProps(box, unit, ['SourcePath', 'ActiveState'])).toEqual({ SourcePath: '/etc/fstab', ActiveState: 'active' });
    expect(await mountIn(box, crypt)).toMatchObject({ fstype: 'btrfs' });
    expect((await box.exec(['test', '-d', path.join(crypt, 'active/postgres')])).code).toBe(0);
  }, 240_000);
});
