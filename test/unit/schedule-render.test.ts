// The scheduled units (pure render): names, escaping, hardening, and `systemd-analyze verify` silent on them;
// the cron equivalent when systemd is absent.
import { afterEach, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { renderScheduleUnits, type ScheduleSpec } from '../../src/install/render/schedule-units.js';
import { cronFields, cronLine } from '../../src/install/render/cron.js';
import { timerName } from '../../src/install/render/schedule-names.js';
import { toolSkipReason } from '../helpers/env.js';

let tmp: string | undefined;
afterEach(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
  tmp = undefined;
});

const spec = (over: Partial<ScheduleSpec> = {}): ScheduleSpec => ({
  cryptPath: '/srv/lychd',
  schedule: { calendar: 'hourly', verify: false },
  bin: '/usr/local/bin/lychd-crypt',
  stateDirs: ['/var/lib/lychd-crypt'],
  prometheus: null,
  ...over,
});

describe('schedule units', () => {
  test('a snapshot pair; a verify pair only with schedule.verify', () => {
    expect(renderScheduleUnits(spec()).map((u) => u.name)).toEqual(['lychd-crypt-snapshot-srv-lychd.service', 'lychd-crypt-snapshot-srv-lychd.timer']);
    const units = renderScheduleUnits(spec({ schedule: { calendar: '*-*-* 02:30', verify: 'Sun 04:00' } }));
    expect(units.map((u) => u.name)).toEqual([
      'lychd-crypt-snapshot-srv-lychd.service',
      'lychd-crypt-snapshot-srv-lychd.timer',
      'lychd-crypt-verify-srv-lychd.service',
      'lychd-crypt-verify-srv-lychd.timer',
    ]);
    const [service, timer, verify, verifyTimer] = units.map((u) => u.content);
    expect(timer).toMatch(/^OnCalendar=\*-\*-\* 02:30$/m);
    expect(timer).toMatch(/^Persistent=true$/m);
    expect(timer).toMatch(/^RandomizedDelaySec=5min$/m);
    expect(timer).toMatch(/^WantedBy=timers.target$/m);
    expect(verifyTimer).toMatch(/^OnCalendar=Sun 04:00$/m);
    expect(service).toMatch(/^ExecStart="\/usr\/local\/bin\/lychd-crypt" --crypt "\/srv\/lychd" --wait 600 snapshot --scheduled$/m);
    expect(verify).toMatch(/verify --newest$/m);
    for (const s of [service!, verify!]) {
      expect(s).toMatch(/^ProtectSystem=strict$/m);
      expect(s).toMatch(/^ReadWritePaths=\/srv\/lychd -\/var\/lib\/lychd-crypt$/m);
      expect(s).toMatch(/^NoNewPrivileges=yes$/m);
      expect(s).not.toMatch(/@[A-Z_]+@/);
      expect(s).not.toMatch(/ExecStopPost/);
      expect(s).not.toMatch(/\n\n\n/);
    }
    expect(timerName('snapshot', '/home/al-ice/.local/share/lychd')).toBe('lychd-crypt-snapshot-home-al\\x2dice-.local-share-lychd.timer');
  });

  test('paths with blanks, % and $ are escaped for each place; the textfile is refreshed after every run', () => {
    const [service] = renderScheduleUnits(spec({ cryptPath: '/srv/my 100%$HOME', prometheus: '/var/lib/prom/lychd.prom' })).map((u) => u.content);
    expect(service).toContain('ExecStart="/usr/local/bin/lychd-crypt" --crypt "/srv/my 100%%$$HOME" --wait 600');
    expect(service).toContain('RequiresMountsFor="/srv/my 100%%$HOME"');
    expect(service).toContain('ReadWritePaths="/srv/my 100%%$HOME" -/var/lib/lychd-crypt -/var/lib/prom');
    expect(service).toMatch(/^ExecStopPost=.* status --prometheus "\/var\/lib\/prom\/lychd.prom"$/m);
    expect(() => renderScheduleUnits(spec({ cryptPath: '/srv/a\nExecStartPre=/bin/sh' }))).toThrow(/newline/);
  });

  test.skipIf(toolSkipReason('systemd-analyze'))('systemd-analyze verify is silent on every unit', async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'lychd-units-'));
    const bin = path.join(tmp, 'bin', 'lychd-crypt');
    await mkdir(path.dirname(bin));
    await writeFile(bin, '#!/bin/sh\nexit 0\n');
    await chmod(bin, 0o755);
    const dir = path.join(tmp, 'units');
    await mkdir(dir);
    const units = renderScheduleUnits(spec({ bin, cryptPath: '/srv/my lychd', schedule: { calendar: '*-*-* *:00/15', verify: 'daily' }, prometheus: '/var/lib/prom/lychd.prom' }));
    for (const u of units) await writeFile(path.join(dir, u.name), u.content);
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...units.map((u) => path.join(dir, u.name))], { encoding: 'utf8', env: { ...process.env, SYSTEMD_LOG_LEVEL: 'notice' } });
    expect(r.stderr, r.stderr).toBe('');
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  test('cron equivalents', () => {
    expect(cronFields('hourly')).toBe('0 * * * *');
    expect(cronFields('weekly')).toBe('0 0 * * 1');
    expect(cronFields('*-*-* 03:30')).toBe('30 3 * * *');
    expect(cronFields('03:05:00')).toBe('5 3 * * *');
    expect(cronFields('Mon..Fri 02:00')).toBeNull();
    expect(cronLine('hourly', ['/usr/local/bin/lychd-crypt', '--crypt', "/srv/it's 100%", 'snapshot', '--scheduled'])).toBe(
      "0 * * * * root /usr/local/bin/lychd-crypt --crypt '/srv/it'\\''s 100\\%' snapshot --scheduled",
    );
  });
});
