// init with retention:, space: and schedule: through the real CLI (no systemd here: the cron lines are
// printed, no unit is written), a converging re-run, then the installed runtime's scheduled run and status.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { runCli, writeAnswers } from '../helpers/init.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite } from '../helpers/suite.js';
import { hostFs } from '../helpers/scenes.js';

const skip = skipReason('root', 'btrfs', 'loop');
const systemdRunning = existsSync('/run/systemd/system');

describe.skipIf(skip || systemdRunning)(`init with a schedule, without systemd ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();
  let scratch: Scratch;

  it('stores the policy, prints cron lines, converges, and the scheduled run works', async () => {
    scratch = await suite.scratch();
    const host = await hostFs(scratch, 'ext4', 512);
    const crypt = path.join(host, 'crypt');
    const binDir = scratch.path('bin');
    const unitDir = scratch.path('units');
    const answers = writeAnswers(scratch, {
      crypt: { path: crypt, user: 'root' },
      method: 'loopback',
      loopback: { image: path.join(host, 'crypt.img'), size: '256M' },
      persist: { via: 'none', unitDir },
      install: { binDir },
      postgres: { enabled: false },
      retention: { keepLast: 2, daily: 7 },
      space: { minFree: '10%' },
      schedule: { calendar: 'hourly', verify: '*-*-* 03:30' },
    });
    const first = runCli(suite.bundle, ['init', '--answers', answers, '--yes', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json.config).toMatchObject({
      retention: { keepLast: 2, daily: 7 },
      space: { minFree: { percent: 10 } },
      schedule: { calendar: 'hourly', verify: '*-*-* 03:30' },
    });
    const bin = path.join(binDir, 'lychd-crypt');
    const registry = scratch.path('registry');
    const text = `${first.stdout}\n${first.stderr}`;
    expect(text).toContain(`0 * * * * root ${bin} --registry ${registry} --crypt ${crypt} --wait 600 snapshot --scheduled`);
    expect(text).toContain(`30 3 * * * root ${bin} --registry ${registry} --crypt ${crypt} --wait 600 verify --newest`);
    expect(existsSync(unitDir) ? readdirSync(unitDir) : []).toEqual([]);
    const stored = JSON.parse(readFileSync(path.join(registry, readdirSync(registry).find((f) => f.endsWith('.json'))!), 'utf8')).config;
    expect(stored.schedule).toEqual({ calendar: 'hourly', verify: '*-*-* 03:30' });

    const again = runCli(suite.bundle, ['init', '--answers', answers, '--yes', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.changed).toBe(0);

    // The installed runtime, as the timer (or cron) runs it.
    for (let i = 0; i < 3; i++) {
      const run = runCli(bin, ['--crypt', crypt, '--json', 'snapshot', '--scheduled']);
      expect(run.code, run.stderr).toBe(0);
      expect(run.json.snapshot.label).toBe('scheduled');
    }
    const list = runCli(bin, ['--crypt', crypt, '--json', 'list']);
    // keepLast 2 and daily 7 (all today: the first of today): the first and the newest two.
    expect(list.json.snapshots).toHaveLength(3);
    const check = runCli(bin, ['--crypt', crypt, 'status', '--check', '--max-age', '1h']);
    expect(check.code, check.stdout).toBe(0);
    expect(check.stdout).toMatch(/^LYCHD-CRYPT OK - newest snapshot \d+[sm] old, 3 snapshots/);
    const status = runCli(bin, ['--crypt', crypt, 'status']);
    expect(status.stdout).toMatch(/last scheduled +ok (?:just now|\d+m ago)(?: \([^)]*\))?: snapshot \S+-scheduled(?:-\d+)?; removed 0 snapshot\(s\)/);
    // systemd does not run here, so init installed no timer (it printed the cron lines): status says so.
    expect(status.stdout).toMatch(/timer +not installed \(hourly is configured, but init installs timers only where systemd runs/);
  });
});
