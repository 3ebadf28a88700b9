// deinit under a real systemd (test/helpers/systemd.ts), loopback persisted by a systemd mount unit with
// scheduled timers (issue 24): deinit stops and removes the timers, unmounts (the unit goes inactive, its
// loop device detached), removes the unit and the registry entry, keeps the image; init with the same
// answers brings back the mount unit, the timers and the data.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { makeUser, sh, type TestUser } from '../helpers/host.js';
import { buildCli, writeAnswers } from '../helpers/init.js';
import { makeScratch, type Scratch } from '../helpers/scratch.js';
import { bootSystemd, type Container } from '../helpers/systemd.js';
import { cliIn, mountIn } from '../helpers/systemd-cli.js';
import { timerName } from '../../src/install/render/schedule-names.js';

const skip = skipReason('root', 'systemd', 'btrfs', 'loop');

/** The container's own registry (its overlay's /etc), as in systemd-timer.test.ts. */
const REGISTRY = { dir: '/etc/lychd-crypt', state: '/var/lib/lychd-crypt' };
const ENV = { LYCHD_CRYPT_REGISTRY: REGISTRY.dir };

describe.skipIf(skip)(`deinit under a real systemd ${skip ? `(skipped: ${skip})` : ''}`, () => {
  let scratch: Scratch;
  let box: Container;
  let bundle: string;
  let user: TestUser;
  const saved = process.env.LYCHD_CRYPT_REGISTRY;
  beforeAll(async () => {
    scratch = await makeScratch();
    bundle = buildCli(scratch);
    user = makeUser(scratch);
    box = await bootSystemd({ scratch });
  }, 180_000);
  afterAll(async () => {
    await scratch?.cleanup();
  }, 120_000);

  it('loopback + systemd unit + timers: removed and brought back', async () => {
    const crypt = scratch.path('unit/crypt');
    const image = scratch.path('unit/img/crypt.img');
    const name = `t-deinit-${user.name}`;
    const answers = writeAnswers(
      scratch,
      {
        crypt: { path: crypt, user: user.name, name, profile: 'system' },
        method: 'loopback',
        loopback: { image, size: '256M' },
        persist: { via: 'systemd', unitDir: '/etc/systemd/system' },
        postgres: { enabled: false },
        schedule: { calendar: 'hourly' },
        registry: REGISTRY,
      },
      'unit.yaml',
    );
    if (saved === undefined) delete process.env.LYCHD_CRYPT_REGISTRY;
    else process.env.LYCHD_CRYPT_REGISTRY = saved;
    const cli = (args: string[]) => cliIn(box, bundle, args, ENV);
    const unit = sh(['systemd-escape', '--path', '--suffix=mount', crypt]).trim();
    const timer = timerName('snapshot', crypt);
    const made = await cli(['init', '--answers', answers, '--yes']);
    expect(made.code, made.stderr).toBe(0);
    expect((await box.systemctl('is-active', unit)).stdout.trim()).toBe('active');
    expect((await box.systemctl('is-active', timer)).stdout.trim()).toBe('active');
    expect((await box.exec(['sh', '-c', `echo kept > ${path.join(crypt, 'active/data.txt')}`])).code).toBe(0);

    const dry = await cli(['--crypt', name, 'deinit', '--dry-run']);
    expect(dry.stdout).toContain(`remove systemd unit ${timer}: would change`);
    const done = await cli(['--crypt', name, '--json', 'deinit', '--yes']);
    expect(done.code, done.stderr).toBe(0);
    expect(await mountIn(box, crypt)).toBeNull();
    expect((await box.systemctl('is-active', unit)).stdout.trim()).not.toBe('active');
    expect((await box.systemctl('is-active', timer)).stdout.trim()).not.toBe('active');
    for (const f of [unit, timer]) expect((await box.exec(['test', '-e', path.join('/etc/systemd/system', f)])).code).toBe(1);
    expect((await box.exec(['test', '-e', path.join(REGISTRY.dir, `${name}.json`)])).code).toBe(1);
    expect((await box.exec(['losetup', '-j', image, '-n'])).stdout.trim()).toBe('');
    expect((await box.exec(['test', '-f', image])).code).toBe(0);

    const back = await cli(['init', '--answers', answers, '--yes']);
    expect(back.code, back.stderr).toBe(0);
    expect((await box.systemctl('is-active', unit)).stdout.trim()).toBe('active');
    expect((await box.systemctl('is-active', timer)).stdout.trim()).toBe('active');
    expect((await box.exec(['cat', path.join(crypt, 'active/data.txt')])).stdout).toBe('kept\n');
  }, 300_000);
});
