// init's schedule steps (pure) and their handlers with a recording systemctl: install, re-run unchanged,
// change the calendar (timer restarted), drop verify, drop the schedule (units removed); cron without systemd.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { Config } from '../../src/model/config.js';
import { RecordingRunner } from '../../src/base/runner.js';
import { existingScheduleUnits } from '../../src/install/detect/schedule-units.js';
import { scheduleSteps } from '../../src/install/plan/schedule.js';
import type { ScheduleConfig } from '../../src/model/settings.js';
import { type Plan, applyPlan, silentReporter } from '../../src/install/init.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-sched-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const config = (schedule: ScheduleConfig | null): Config =>
  ({
    crypt: { path: '/srv/lychd', name: 'lychd', user: 'alice', uid: 1000, gid: 1000, home: '/home/alice' },
    registry: { dir: '/etc/lychd-crypt', state: '/var/lib/lychd-crypt' },
    persist: { unitDir: dir },
    install: { binDir: '/usr/local/bin' },
    schedule,
  }) as unknown as Config;

/** A systemd that remembers which unit files changed since the last daemon-reload. */
function fakeSystemd() {
  const loaded = new Map<string, string>();
  const enabled = new Set<string>();
  const active = new Set<string>();
  const onDisk = (unit: string) => {
    try {
      return readFileSync(path.join(dir, unit), 'utf8');
    } catch {
      return undefined;
    }
  };
  return new RecordingRunner((argv) => {
    const [cmd, verb, ...rest] = argv;
    if (cmd !== 'systemctl') return undefined;
    const unit = rest.at(-1)!;
    switch (verb) {
      case 'daemon-reload':
        loaded.clear();
        for (const f of readdirSync(dir)) loaded.set(f, onDisk(f)!);
        return {};
      case 'is-enabled':
        return enabled.has(unit) ? { stdout: 'enabled\n' } : { exitCode: 1, stdout: 'disabled\n' };
      case 'show': {
        if (rest[0] === '--property=ActiveState') return { stdout: active.has(unit) ? 'active\n' : 'inactive\n' };
        return { stdout: loaded.get(unit) === onDisk(unit) ? 'no\n' : 'yes\n' };
      }
      case 'enable':
        enabled.add(unit);
        return {};
      case 'restart':
        active.add(unit);
        return {};
      case 'disable':
        enabled.delete(unit);
        active.delete(unit);
        return {};
    }
    return undefined;
  });
}

async function initRun(runner: RecordingRunner, schedule: ScheduleConfig | null, systemdRunning = true) {
  const notes: string[] = [];
  const steps = scheduleSteps({ systemdRunning, scheduleUnits: await existingScheduleUnits(dir, '/srv/lychd'), userScheduleUnits: [] }, config(schedule), notes);
  const plan: Plan = { version: 1, config: config(schedule), steps, notes };
  runner.calls.length = 0;
  const result = await applyPlan(plan, { runner }, silentReporter);
  return { steps, notes, changed: result.changed, calls: runner.calls.map((c) => c.join(' ')) };
}

describe('schedule steps converge', () => {
  test('install, re-run, change, drop verify, drop schedule', async () => {
    const sd = fakeSystemd();
    const first = await initRun(sd, { calendar: 'hourly', verify: 'daily' });
    expect(first.steps.map((s) => s.kind)).toEqual(['write-unit', 'write-unit', 'write-unit', 'write-unit', 'enable-timer', 'enable-timer']);
    expect(readdirSync(dir).sort()).toEqual([
      'lychd-crypt-snapshot-srv-lychd.service',
      'lychd-crypt-snapshot-srv-lychd.timer',
      'lychd-crypt-verify-srv-lychd.service',
      'lychd-crypt-verify-srv-lychd.timer',
    ]);
    expect(first.calls).toContain('systemctl enable lychd-crypt-snapshot-srv-lychd.timer');
    expect(first.calls).toContain('systemctl restart lychd-crypt-verify-srv-lychd.timer');

    const again = await initRun(sd, { calendar: 'hourly', verify: 'daily' });
    expect(again.changed).toBe(0);
    expect(again.calls.filter((c) => !/ (is-enabled|show) /.test(c))).toEqual([]);

    const changed = await initRun(sd, { calendar: '*-*-* *:00/15', verify: 'daily' });
    expect(changed.changed).toBe(2); // the snapshot timer file, and its restart
    expect(readFileSync(path.join(dir, 'lychd-crypt-snapshot-srv-lychd.timer'), 'utf8')).toMatch(/^OnCalendar=\*-\*-\* \*:00\/15$/m);
    expect(changed.calls).toContain('systemctl restart lychd-crypt-snapshot-srv-lychd.timer');
    expect(changed.calls).not.toContain('systemctl restart lychd-crypt-verify-srv-lychd.timer');

    const noVerify = await initRun(sd, { calendar: '*-*-* *:00/15', verify: false });
    expect(noVerify.steps.filter((s) => s.kind === 'remove-unit').map((s) => (s as { unit: string }).unit)).toEqual([
      'lychd-crypt-verify-srv-lychd.timer',
      'lychd-crypt-verify-srv-lychd.service',
    ]);
    expect(noVerify.calls).toContain('systemctl disable --now lychd-crypt-verify-srv-lychd.timer');
    expect(readdirSync(dir)).toHaveLength(2);

    const none = await initRun(sd, null);
    expect(none.steps.map((s) => s.kind)).toEqual(['remove-unit', 'remove-unit']);
    expect(readdirSync(dir)).toEqual([]);
    expect((await initRun(sd, null)).steps).toEqual([]);
  });

  test('without systemd: no units, the cron lines in a note', async () => {
    const r = await initRun(new RecordingRunner(), { calendar: 'hourly', verify: '*-*-* 03:30' }, false);
    expect(r.steps).toEqual([]);
    expect(r.notes[0]).toContain('0 * * * * root /usr/local/bin/lychd-crypt --crypt /srv/lychd --wait 600 snapshot --scheduled');
    expect(r.notes[0]).toContain('30 3 * * * root /usr/local/bin/lychd-crypt --crypt /srv/lychd --wait 600 verify --newest');
  });
});
