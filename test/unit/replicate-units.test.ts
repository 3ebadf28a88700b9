// Replication's scheduled units (pure): rendering of root's service, timer and .path unit, and init's plan
// for them — after-snapshot on a system crypt rides the snapshot service (whose writable paths grow by the
// local targets), a calendar of its own gets a timer, a rootless crypt gets root's units with a .path unit
// for its owner's requests, a removed replicate: removes them, and without systemd a cron line.
import { describe, expect, test } from 'vitest';
import type { Config } from '../../src/model/config.js';
import type { Step } from '../../src/model/steps.js';
import type { ReplicateConfig, TargetConfig } from '../../src/model/replicate.js';
import { renderReplicateUnits } from '../../src/install/render/replicate-units.js';
import { scheduleSteps } from '../../src/install/plan/schedule.js';
import { existingScheduleUnits } from '../../src/install/detect/schedule-units.js';
import { stateSteps } from '../../src/install/plan/common.js';

const target = (name: string, url: TargetConfig['url']): TargetConfig => ({ name, url, retention: null, rateLimit: null, fullEvery: null, identity: null, knownHosts: null });
const TARGETS = [
  target('offsite', { kind: 'ssh', user: 'root', host: 'backup.example', port: 22, path: '/srv/lychd/web1' }),
  target('usb', { kind: 'path', path: '/mnt/usb/lychd/web1' }),
  target('bucket', { kind: 'file', path: '/mnt/rclone/lychd' }),
];

const config = (profile: 'system' | 'rootless', replicate: ReplicateConfig | null, schedule: Config['schedule'] = { calendar: 'hourly', verify: false }): Config =>
  ({
    profile,
    crypt: profile === 'rootless'
      ? { path: '/home/alice/.local/share/lychd', name: 'alice', user: 'alice', uid: 1000, gid: 1000, home: '/home/alice' }
      : { path: '/srv/lychd', name: 'lychd', user: 'alice', uid: 1000, gid: 1000, home: '/home/alice' },
    registry: { dir: '/etc/lychd-crypt', state: '/var/lib/lychd-crypt' },
    persist: { unitDir: '/etc/systemd/system' },
    install: { binDir: '/usr/local/bin' },
    schedule,
    replicate,
  }) as unknown as Config;

const SYS = 'lychd-crypt-replicate-srv-lychd';
const USR = 'lychd-crypt-replicate-home-alice-.local-share-lychd';
const facts = { systemdRunning: true, scheduleUnits: [], userScheduleUnits: [] };
const content = (steps: Step[], unit: string): string => (steps.find((s) => s.kind === 'write-unit' && s.unit === unit) as Extract<Step, { kind: 'write-unit' }>).content;

describe('rendering', () => {
  const spec = { cryptPath: '/srv/lychd', bin: '/usr/local/bin/lychd-crypt', calendar: '*-*-* 03:00', requestFile: null, writable: ['/var/lib/lychd-crypt/lychd', '/mnt/usb/lychd'] };

  test('a service running `replicate` under the lock wait, writable only where it writes, and its timer', () => {
    const units = renderReplicateUnits(spec);
    expect(units.map((u) => u.name)).toEqual([`${SYS}.service`, `${SYS}.timer`]);
    const [service, timer] = units.map((u) => u.content);
    expect(service).toMatch(/^ExecStart="\/usr\/local\/bin\/lychd-crypt" --crypt "\/srv\/lychd" --wait 600 replicate$/m);
    expect(service).toMatch(/^RequiresMountsFor=\/srv\/lychd$/m);
    expect(service).toMatch(/^ProtectSystem=strict$/m);
    expect(service).toMatch(/^ReadWritePaths=-\/var\/lib\/lychd-crypt\/lychd -\/mnt\/usb\/lychd$/m);
    expect(service).toMatch(/^Type=oneshot$/m);
    expect(timer).toMatch(/^OnCalendar=\*-\*-\* 03:00$/m);
    expect(timer).toMatch(/^Persistent=true$/m);
  });

  test('a rootless crypt: a .path unit watching the owner\'s request file starts root\'s service', () => {
    const units = renderReplicateUnits({ ...spec, cryptPath: '/home/alice/.local/share/lychd', requestFile: '/home/alice/.local/state/lychd-crypt/alice/replicate.request' });
    expect(units.map((u) => u.name)).toEqual([`${USR}.service`, `${USR}.timer`, `${USR}.path`]);
    const p = units[2]!.content;
    expect(p).toMatch(/^PathModified=\/home\/alice\/.local\/state\/lychd-crypt\/alice\/replicate.request$/m);
    expect(p).toMatch(new RegExp(`^Unit=${USR.replace(/\./g, '\\.')}\\.service$`, 'm'));
    expect(p).toMatch(/^WantedBy=paths.target$/m);
  });

  test('values are escaped or refused: % doubled, a newline refused', () => {
    const units = renderReplicateUnits({ ...spec, cryptPath: '/srv/100%' });
    expect(units[0]!.content).toContain('--crypt "/srv/100%%"');
    expect(() => renderReplicateUnits({ ...spec, writable: ['/x\nExecStart=/bin/sh'] })).toThrow();
    expect(() => renderReplicateUnits({ ...spec, calendar: 'daily\n[Service]' })).toThrow();
  });
});

describe('init\'s plan', () => {
  test('system crypt, after-snapshot: no units of its own; the snapshot service may write the local targets', () => {
    const steps = scheduleSteps(facts, config('system', { schedule: 'after-snapshot', targets: TARGETS }), []);
    expect(steps.some((s) => 'unit' in s && !!s.unit?.includes('replicate'))).toBe(false);
    expect(content(steps, 'lychd-crypt-snapshot-srv-lychd.service')).toMatch(/^ReadWritePaths=\/srv\/lychd -\/var\/lib\/lychd-crypt\/lychd -\/mnt\/usb\/lychd -\/mnt\/rclone$/m);
  });

  test('system crypt, after-snapshot without a snapshot schedule: a daily replication timer instead', () => {
    const steps = scheduleSteps(facts, config('system', { schedule: 'after-snapshot', targets: TARGETS }, null), []);
    expect(steps.map((s) => [s.kind, 'unit' in s ? s.unit : ''])).toEqual([
      ['write-unit', `${SYS}.service`],
      ['write-unit', `${SYS}.timer`],
      ['enable-timer', `${SYS}.timer`],
    ]);
    expect(content(steps, `${SYS}.timer`)).toMatch(/^OnCalendar=daily$/m);
  });

  test('system crypt, a calendar of its own: root\'s timer; the snapshot service is left as it was', () => {
    const steps = scheduleSteps(facts, config('system', { schedule: '*-*-* 03:00', targets: TARGETS }), []);
    expect(steps.filter((s) => 'unit' in s && !!s.unit?.includes('replicate')).map((s) => [s.kind, 'path' in s ? s.path : s.kind === 'enable-timer' && s.unit])).toEqual([
      ['write-unit', `/etc/systemd/system/${SYS}.service`],
      ['write-unit', `/etc/systemd/system/${SYS}.timer`],
      ['enable-timer', `${SYS}.timer`],
    ]);
    expect(content(steps, 'lychd-crypt-snapshot-srv-lychd.service')).toMatch(/^ReadWritePaths=\/srv\/lychd -\/var\/lib\/lychd-crypt\/lychd$/m);
  });

  test('rootless crypt: the owner\'s snapshot units are user units, replication\'s are root\'s with the .path unit enabled', () => {
    const steps = scheduleSteps(facts, config('rootless', { schedule: 'after-snapshot', targets: TARGETS }), []);
    const rep = steps.filter((s) => 'unit' in s && !!s.unit?.includes('replicate'));
    expect(rep.map((s) => [s.kind, 'unit' in s && s.unit, 'user' in s])).toEqual([
      ['write-unit', `${USR}.service`, false],
      ['write-unit', `${USR}.timer`, false],
      ['write-unit', `${USR}.path`, false],
      ['enable-timer', `${USR}.timer`, false],
      ['enable-timer', `${USR}.path`, false],
    ]);
    expect(rep.every((s) => !('path' in s) || s.path.startsWith('/etc/systemd/system/'))).toBe(true);
    const service = content(steps, `${USR}.service`);
    // root's record of the runs, the owner's state (the crypt's lock), the local targets.
    expect(service).toMatch(/^ReadWritePaths=-\/var\/lib\/lychd-crypt\/alice -\/home\/alice\/.local\/state\/lychd-crypt\/alice -\/mnt\/usb\/lychd -\/mnt\/rclone$/m);
    expect(content(steps, `${USR}.timer`)).toMatch(/^OnCalendar=daily$/m);
  });

  test('replicate: gone or schedule false: the units found are removed, triggers before the service', () => {
    const found = [`${SYS}.path`, `${SYS}.service`, `${SYS}.timer`];
    for (const r of [null, { schedule: false as const, targets: TARGETS }]) {
      const steps = scheduleSteps({ ...facts, scheduleUnits: found }, config('system', r, null), []);
      expect(steps.map((s) => [s.kind, 'unit' in s && s.unit])).toEqual([
        ['remove-unit', `${SYS}.path`],
        ['remove-unit', `${SYS}.timer`],
        ['remove-unit', `${SYS}.service`],
      ]);
    }
    // Re-run with the same answers: the units are kept (written again, no removal).
    const same = scheduleSteps({ ...facts, scheduleUnits: [`${SYS}.service`, `${SYS}.timer`] }, config('system', { schedule: 'daily', targets: TARGETS }, null), []);
    expect(same.some((s) => s.kind === 'remove-unit')).toBe(false);
  });

  test('without systemd: a root cron line for replication (none when the snapshot\'s run sends)', () => {
    const notes: string[] = [];
    scheduleSteps({ ...facts, systemdRunning: false }, config('rootless', { schedule: '*-*-* 03:00', targets: TARGETS }), notes);
    expect(notes.join('\n')).toContain('0 3 * * * root /usr/local/bin/lychd-crypt --crypt /home/alice/.local/share/lychd --wait 600 replicate');
    const sys: string[] = [];
    scheduleSteps({ ...facts, systemdRunning: false }, config('system', { schedule: 'after-snapshot', targets: TARGETS }), sys);
    expect(sys.join('\n')).not.toContain('replicate');
  });

  test('detect finds the replication units of this crypt only', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const os = await import('node:os');
    const dir = await mkdtemp(`${os.tmpdir()}/lychd-rep-units-`);
    try {
      for (const n of [`${SYS}.service`, `${SYS}.timer`, `${SYS}.path`, 'lychd-crypt-replicate-srv-other.path', 'unrelated.path']) await writeFile(`${dir}/${n}`, '');
      expect(await existingScheduleUnits(dir, '/srv/lychd')).toEqual([`${SYS}.path`, `${SYS}.service`, `${SYS}.timer`]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a rootless crypt with targets: init makes root\'s state directory of it (the record; the service cannot)', () => {
    const dirs = (c: Config) => stateSteps(c, { root: c.crypt.path, uuid: null }).filter((s) => s.kind === 'create-dir' && s.path.startsWith('/var/lib'));
    expect(dirs(config('rootless', { schedule: 'after-snapshot', targets: TARGETS }))).toEqual([
      { kind: 'create-dir', path: '/var/lib/lychd-crypt', mode: 0o755, owner: { uid: 0, gid: 0 } },
      { kind: 'create-dir', path: '/var/lib/lychd-crypt/alice', mode: 0o755, owner: { uid: 0, gid: 0 } },
    ]);
    expect(dirs(config('rootless', null))).toEqual([]);
  });
});
