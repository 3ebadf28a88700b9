// The scheduled-snapshot timer for real, under a real systemd (test/helpers/systemd.ts), one boot for the
// file: `init` with `schedule:` installs the timer and its service, `systemctl list-timers` shows the timer,
// and a `systemctl start` of the service takes a snapshot through the hardened unit (ProtectSystem=strict:
// only the crypt and its state directory writable). A rootless crypt gets a user timer of its owner
// (lingering, `systemctl --user`), whose run snapshots as the owner.
// Inside the container the real default places are used (/etc/systemd/system, /etc/lychd-crypt,
// /var/lib/lychd-crypt): they live in the container's overlay, the host's are never touched.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { makeUser, type TestUser } from '../helpers/host.js';
import { buildCli, writeAnswers } from '../helpers/init.js';
import { fileScratch } from '../helpers/suite.js';
import { bootSystemd, type Container } from '../helpers/systemd.js';
import { cliIn, unitProps } from '../helpers/systemd-cli.js';
import { serviceName, timerName } from '../../src/install/render/schedule-names.js';

const skip = skipReason('root', 'systemd', 'btrfs', 'loop');

/** The container's own registry (its overlay's /etc): the default, so the units need no --registry. */
const REGISTRY = { dir: '/etc/lychd-crypt', state: '/var/lib/lychd-crypt' };
const ENV = { LYCHD_CRYPT_REGISTRY: REGISTRY.dir };

describe.skipIf(skip)(`scheduled snapshots under a real systemd ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const shared = fileScratch(120_000);
  let box: Container;
  let bundle: string;
  let user: TestUser;
  let owner: TestUser;
  const savedRegistry = process.env.LYCHD_CRYPT_REGISTRY;
  const answersFor = (name: string, answers: Record<string, unknown>) => {
    const file = writeAnswers(shared.scratch, { ...answers, registry: REGISTRY }, name);
    // writeAnswers points this process at the registry; this one exists only inside the container.
    if (savedRegistry === undefined) delete process.env.LYCHD_CRYPT_REGISTRY;
    else process.env.LYCHD_CRYPT_REGISTRY = savedRegistry;
    return file;
  };
  const cli = (args: string[]) => cliIn(box, bundle, args, ENV);

  beforeAll(async () => {
    bundle = buildCli(shared.scratch);
    // Before the boot: the container sees the host's passwd as it is then.
    user = makeUser(shared.scratch);
    owner = makeUser(shared.scratch, shared.scratch.path('owner-home'));
    box = await bootSystemd({ scratch: shared.scratch });
  }, 180_000);

  /** A loopback crypt without PostgreSQL, persisted by a unit, keeping 2 snapshots on `schedule` (answers file `<tag>.yaml`). */
  const timerAnswers = (tag: string, crypt: Record<string, string>, schedule: { calendar: string; verify: string | false }) =>
    answersFor(`${tag}.yaml`, {
      crypt,
      method: 'loopback',
      loopback: { image: shared.scratch.path(`${tag}/img/crypt.img`), size: '256M' },
      persist: { via: 'systemd', unitDir: '/etc/systemd/system' },
      postgres: { enabled: false },
      retention: { keepLast: 2 },
      schedule,
    });

  it('system crypt: list-timers shows the timer; starting its service takes a scheduled snapshot', async () => {
    const crypt = shared.scratch.path('sys/crypt');
    // Unique: the container's /etc and /var/lib show the host's below its own writes.
    const name = `t-sys-${user.name}`;
    const answers = timerAnswers('sys', { path: crypt, user: user.name, name, profile: 'system' }, { calendar: 'hourly', verify: 'daily' });
    const init = await cli(['init', '--answers', answers, '--yes', '--json']);
    expect(init.code, init.stderr).toBe(0);
    const timer = timerName('snapshot', crypt);
    const service = serviceName('snapshot', crypt);

    for (const unit of [timer, service, timerName('verify', crypt), serviceName('verify', crypt)]) {
      const v = await box.exec(['systemd-analyze', 'verify', path.join('/etc/systemd/system', unit)]);
      expect({ unit, code: v.code, out: v.stdout + v.stderr }).toEqual({ unit, code: 0, out: '' });
    }
    const timers = await box.systemctl('list-timers', '--all', '--no-legend', '--plain');
    expect(timers.stdout).toContain(timer);
    expect(timers.stdout).toContain(timerName('verify', crypt));
    expect(await unitProps(box, timer, ['ActiveState', 'UnitFileState'])).toEqual({ ActiveState: 'active', UnitFileState: 'enabled' });
    expect(timers.stdout.split('\n').find((l) => l.includes(timer))).toContain(service);

    for (let i = 0; i < 3; i++) {
      const run = await box.systemctl('start', service);
      const journal = await box.exec(['journalctl', '--no-pager', '-o', 'cat', '-n', '40', '-u', service]);
      expect(run.code, `${run.stderr}\n${journal.stdout}`).toBe(0);
      expect(await unitProps(box, service, ['Result'])).toEqual({ Result: 'success' });
    }
    const list = await cli(['--crypt', crypt, '--json', 'list']);
    expect(list.code, list.stderr).toBe(0);
    const snaps = list.json.snapshots as { name: string; label: string | null }[];
    // keepLast 2: the third run pruned the first.
    expect(snaps.map((s) => s.label)).toEqual(['scheduled', 'scheduled']);

    const status = await cli(['--crypt', crypt, '--json', 'status']);
    expect(status.json.runs.scheduled, status.stderr).toMatchObject({ ok: true });
    expect(status.json.timer).toMatchObject({ unit: timer, calendar: 'hourly', nextRun: expect.any(String) });
    // The run recorded itself in the registry entry's state directory, outside the crypt.
    // A re-run converges: the loaded timer is this version, nothing is rewritten or restarted.
    const again = await cli(['init', '--answers', answers, '--yes', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.changed).toBe(0);
    const state = path.join(REGISTRY.state, name);
    expect((await box.exec(['stat', '-c', '%u %a', state, path.join(state, 'runs.json')])).stdout).toMatch(/^0 711\n0 6[04]{2}\n$/);
  }, 240_000);

  it('rootless crypt: a user timer of its owner (lingering); starting its service snapshots as the owner', async () => {
    const crypt = path.join(owner.home, '.local/share/lychd');
    const name = `t-own-${owner.name}`;
    const answers = timerAnswers('own', { path: crypt, user: owner.name, name, profile: 'rootless' }, { calendar: 'daily', verify: false });
    const init = await cli(['init', '--answers', answers, '--yes', '--json']);
    expect(init.code, init.stderr).toBe(0);
    const timer = timerName('snapshot', crypt);
    const service = serviceName('snapshot', crypt);
    const userDir = path.join(owner.home, '.config/systemd/user');
    const scope = ['--user', '-M', `${owner.name}@`];

    // The owner's units, not root's: in its unit directory, owned by it; none in the system's.
    const files = await box.exec(['stat', '-c', '%U %a %n', path.join(userDir, timer), path.join(userDir, service)]);
    expect(files.stdout.trim().split('\n').map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual([`${owner.name} 644`, `${owner.name} 644`]);
    expect((await box.exec(['test', '-e', path.join('/etc/systemd/system', timer)])).code).not.toBe(0);
    expect((await box.systemctl('list-timers', '--all', '--no-legend', '--plain')).stdout).not.toContain(timer);
    expect((await box.exec(['loginctl', 'show-user', owner.name, '--property=Linger', '--value'])).stdout.trim()).toBe('yes');
    const timers = await box.exec(['systemctl', ...scope, 'list-timers', '--all', '--no-legend', '--plain']);
    expect(timers.stdout, timers.stderr).toContain(timer);
    expect(await unitProps(box, timer, ['ActiveState', 'UnitFileState'], owner.name)).toEqual({ ActiveState: 'active', UnitFileState: 'enabled' });

    for (let i = 0; i < 3; i++) {
      const run = await box.exec(['systemctl', ...scope, 'start', service]);
      const journal = await box.exec(['journalctl', '--no-pager', '-o', 'cat', '-n', '40', `_UID=${owner.uid}`]);
      expect(run.code, `${run.stderr}\n${journal.stdout}`).toBe(0);
      expect(await unitProps(box, service, ['Result'], owner.name)).toEqual({ Result: 'success' });
    }
    const list = await cli(['--crypt', crypt, '--json', 'list']);
    expect(list.code, list.stderr).toBe(0);
    const snaps = list.json.snapshots as { name: string; label: string | null }[];
    expect(snaps.map((s) => s.label)).toEqual(['scheduled', 'scheduled']);
    // Taken by the owner (its runtime ran as the owner), recorded in the owner's state directory.
    const made = await box.exec(['stat', '-c', '%U', path.join(crypt, 'snapshots', snaps[1]!.name)]);
    expect(made.stdout.trim()).toBe(owner.name);
    const runs = path.join(owner.home, '.local/state/lychd-crypt', name, 'runs.json');
    expect((await box.exec(['stat', '-c', '%U', runs])).stdout.trim()).toBe(owner.name);
    // status (root's command, run as the owner) asks the owner's manager for the next run.
    const status = await cli(['--crypt', crypt, '--json', 'status']);
    expect(status.json?.timer, status.stderr).toMatchObject({ unit: timer, calendar: 'daily', nextRun: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });

    // A second run converges; dropping the schedule removes the owner's units.
    const again = await cli(['init', '--answers', answers, '--yes', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.changed).toBe(0);
    const dropped = answersFor('own-none.yaml', {
      crypt: { path: crypt, user: owner.name, name, profile: 'rootless' },
      method: 'loopback',
      loopback: { image: shared.scratch.path('own/img/crypt.img'), size: '256M' },
      persist: { via: 'systemd', unitDir: '/etc/systemd/system' },
      postgres: { enabled: false },
      retention: { keepLast: 2 },
    });
    const none = await cli(['init', '--answers', dropped, '--yes', '--json']);
    expect(none.code, none.stderr).toBe(0);
    expect((await box.exec(['ls', '-A', userDir])).stdout.trim()).toBe('');
    expect((await box.exec(['systemctl', ...scope, 'list-timers', '--all', '--no-legend', '--plain'])).stdout).not.toContain(timer);
  }, 240_000);
});
