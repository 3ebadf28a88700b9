// A rootless crypt's scheduled units are its owner's user units (pure plan, rendering, dry-run argv):
// ~/.config/systemd/user, lingering, `systemctl --user -M owner@` from root; a switch of profile moves them;
// the user manager gets only the hardening it can apply; cron lines run as the owner.
import { describe, expect, test } from 'vitest';
import type { Config } from '../../src/model/config.js';
import type { Step } from '../../src/model/steps.js';
import { renderScheduleUnits } from '../../src/install/render/schedule-units.js';
import { scheduleSteps } from '../../src/install/plan/schedule.js';
import { systemctlArgv, userUnitDir } from '../../src/base/systemctl.js';

const config = (profile: 'system' | 'rootless', schedule: Config['schedule'] = { calendar: 'hourly', verify: false }): Config =>
  ({
    profile,
    crypt: { path: '/home/alice/.local/share/lychd', name: 'alice', user: 'alice', uid: 1000, gid: 1000, home: '/home/alice' },
    registry: { dir: '/etc/lychd-crypt', state: '/var/lib/lychd-crypt' },
    persist: { unitDir: '/etc/systemd/system' },
    install: { binDir: '/usr/local/bin' },
    schedule,
  }) as unknown as Config;

const SNAP = 'lychd-crypt-snapshot-home-alice-.local-share-lychd';
const alice = { name: 'alice', uid: 1000, gid: 1000 };

describe('rootless: user units of the owner', () => {
  test('written to ~/.config/systemd/user, enabled in the owner\'s manager', () => {
    const steps = scheduleSteps({ systemdRunning: true, scheduleUnits: [], userScheduleUnits: [] }, config('rootless'), []);
    expect(steps).toEqual([
      { kind: 'write-unit', path: `/home/alice/.config/systemd/user/${SNAP}.service`, unit: `${SNAP}.service`, content: expect.any(String), user: alice },
      { kind: 'write-unit', path: `/home/alice/.config/systemd/user/${SNAP}.timer`, unit: `${SNAP}.timer`, content: expect.any(String), user: alice },
      { kind: 'enable-timer', unit: `${SNAP}.timer`, user: alice },
    ]);
    const service = (steps[0] as Extract<Step, { kind: 'write-unit' }>).content;
    expect(service).not.toMatch(/^(ProtectSystem|ReadWritePaths|PrivateTmp|ProtectKernel\w+|ProtectControlGroups|ProtectClock|ProtectHostname)=/m);
    expect(service).toMatch(/^NoNewPrivileges=yes$/m);
    expect(service).toMatch(/^RestrictNamespaces=yes$/m);
    expect(service).toMatch(/^# Hardening a user manager can apply/m);
  });

  test('a system crypt keeps root\'s units, with the state directory from the registry writable', () => {
    const steps = scheduleSteps({ systemdRunning: true, scheduleUnits: [], userScheduleUnits: [] }, config('system'), []);
    expect(steps.map((s) => ('path' in s ? s.path : s.kind))).toEqual([`/etc/systemd/system/${SNAP}.service`, `/etc/systemd/system/${SNAP}.timer`, 'enable-timer']);
    expect(steps.every((s) => !('user' in s))).toBe(true);
    expect((steps[0] as Extract<Step, { kind: 'write-unit' }>).content).toMatch(/^ReadWritePaths=\/home\/alice\/.local\/share\/lychd -\/var\/lib\/lychd-crypt\/alice$/m);
  });

  test('a switch of profile moves the units; dropping the schedule removes the owner\'s', () => {
    const found = [`${SNAP}.service`, `${SNAP}.timer`];
    const toRootless = scheduleSteps({ systemdRunning: true, scheduleUnits: found, userScheduleUnits: [] }, config('rootless'), []);
    expect(toRootless.filter((s) => s.kind === 'remove-unit')).toEqual([
      { kind: 'remove-unit', path: `/etc/systemd/system/${SNAP}.timer`, unit: `${SNAP}.timer`, systemd: true },
      { kind: 'remove-unit', path: `/etc/systemd/system/${SNAP}.service`, unit: `${SNAP}.service`, systemd: true },
    ]);
    const toSystem = scheduleSteps({ systemdRunning: true, scheduleUnits: [], userScheduleUnits: found }, config('system'), []);
    expect(toSystem.filter((s) => s.kind === 'remove-unit').map((s) => [s.kind === 'remove-unit' && s.path, 'user' in s && s.user])).toEqual([
      [`/home/alice/.config/systemd/user/${SNAP}.timer`, alice],
      [`/home/alice/.config/systemd/user/${SNAP}.service`, alice],
    ]);
    const none = scheduleSteps({ systemdRunning: true, scheduleUnits: [], userScheduleUnits: found }, config('rootless', null), []);
    expect(none.map((s) => s.kind)).toEqual(['remove-unit', 'remove-unit']);
  });

  test('without systemd: the cron lines run as the owner', () => {
    const notes: string[] = [];
    expect(scheduleSteps({ systemdRunning: false, scheduleUnits: [], userScheduleUnits: [] }, config('rootless'), notes)).toEqual([]);
    expect(notes[0]).toContain('0 * * * * alice /usr/local/bin/lychd-crypt --crypt /home/alice/.local/share/lychd --wait 600 snapshot --scheduled');
  });

  test('scope helpers', () => {
    expect(userUnitDir('/home/alice')).toBe('/home/alice/.config/systemd/user');
    expect(systemctlArgv(undefined, 'enable', 'x.timer')).toEqual(['systemctl', 'enable', 'x.timer']);
    const asRoot = process.getuid?.() === 0;
    expect(systemctlArgv(alice, 'enable', 'x.timer')).toEqual(asRoot ? ['systemctl', '--user', '-M', 'alice@', 'enable', 'x.timer'] : ['systemctl', '--user', 'enable', 'x.timer']);
  });

  test('user-scope rendering keeps the timer as it is', () => {
    const spec = { cryptPath: '/srv/x', schedule: { calendar: 'hourly', verify: 'daily' as const }, bin: '/usr/local/bin/lychd-crypt', stateDirs: ['/s'], prometheus: null };
    const sys = renderScheduleUnits(spec);
    const usr = renderScheduleUnits({ ...spec, scope: 'user' });
    expect(usr.filter((u) => u.name.endsWith('.timer'))).toEqual(sys.filter((u) => u.name.endsWith('.timer')));
  });
});
