// The systemd side of mounting, by argv (the real behaviour is in test/real/systemd-*.test.ts): with a
// start, enable-mount-unit mounts the crypt itself (no-follow, through an fd), lets the unit adopt it
// (enable --now) and checks the result; repair's mount through a unit resets a failed unit, mounts and
// starts it, and mounts directly when the unit describes another mount.
import { afterAll, describe, expect, it } from 'vitest';
import { enableMountUnit as enableMountUnitStep } from '../../src/install/steps/enable-mount-unit.js';
import { startMountUnit } from '../../src/install/steps/mount.js';
import { RecordingRunner } from '../../src/base/runner.js';
import type { MountSpec } from '../../src/install/render/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The mount point must exist: mounts go through a no-follow walk of it (mountNoFollow).
const spec: MountSpec = { what: '/dev/vdz', where: mkdtempSync(path.join(os.tmpdir(), 'lychd-unit-mnt-')), type: 'btrfs', options: ['noatime'] };
afterAll(() => rmSync(spec.where, { recursive: true, force: true }));
const ANCHOR = expect.stringMatching(/^\/proc\/\d+\/fd\/\d+$/);
const mountedJson = JSON.stringify({ filesystems: [{ target: spec.where, source: spec.what, fstype: 'btrfs', options: 'rw' }] });

/** A runner where the crypt becomes mounted once `systemctl <verb>` ran. */
function systemdRunner(verb: string, show = `What=${spec.what}\nWhere=${spec.where}\n`, enabled = 'disabled') {
  let mounted = false;
  return new RecordingRunner((argv) => {
    if (argv[0] === 'findmnt') return mounted ? { stdout: mountedJson } : { exitCode: 1 };
    if (argv[1] === 'is-enabled') return { stdout: `${enabled}\n`, exitCode: enabled === 'enabled' ? 0 : 1 };
    if (argv[1] === 'show') return { stdout: show };
    if (argv.includes(verb) || argv[0] === 'mount') mounted = true;
    return {};
  });
}

describe('mounting through systemd', () => {
  it('init: enable --now by full path outside the search path, then the mount is checked', async () => {
    const runner = systemdRunner('--now');
    const r = await enableMountUnitStep.apply({ kind: 'enable-mount-unit', unit: 'srv-crypt.mount', path: '/t/units/srv-crypt.mount', start: spec }, { runner });
    expect(r.changed).toBe(true);
    expect(runner.calls.filter((a) => a[0] === 'systemctl')).toEqual([
      ['systemctl', 'is-enabled', 'srv-crypt.mount'],
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', '--now', '/t/units/srv-crypt.mount'],
    ]);
    // The crypt is mounted first, no-follow through an fd; enable --now then adopts that mount.
    expect(runner.calls.findIndex((a) => a[0] === 'mount')).toBeLessThan(runner.calls.findIndex((a) => a[1] === 'enable'));
    expect(runner.calls.find((a) => a[0] === 'mount')).toEqual(['mount', '--no-canonicalize', '-t', 'btrfs', '-o', 'noatime', spec.what, ANCHOR]);
  });

  it('init: an enabled unit whose mount is gone is started again', async () => {
    const runner = systemdRunner('start', undefined, 'enabled');
    await enableMountUnitStep.apply({ kind: 'enable-mount-unit', unit: 'srv-crypt.mount', path: '/etc/systemd/system/srv-crypt.mount', start: spec }, { runner });
    expect(runner.calls.filter((a) => a[0] === 'systemctl').at(-1)).toEqual(['systemctl', 'start', 'srv-crypt.mount']);
  });

  it('init: a unit that starts without mounting the crypt is an error naming the unit', async () => {
    const runner = new RecordingRunner((argv) => (argv[0] === 'findmnt' || argv[1] === 'is-enabled' ? { exitCode: 1 } : {}));
    await expect(enableMountUnitStep.apply({ kind: 'enable-mount-unit', unit: 'srv-crypt.mount', path: '/t/srv-crypt.mount', start: spec }, { runner })).rejects.toThrow(
      /srv-crypt.mount started but \/tmp\/lychd-unit-mnt-\w+ is not mounted/,
    );
  });

  it('repair: reset-failed, then start the unit', async () => {
    const runner = systemdRunner('start');
    expect(await startMountUnit('srv-crypt.mount', spec, { runner })).toEqual({ changed: true, detail: 'started srv-crypt.mount' });
    expect(runner.calls.filter((a) => a[0] === 'systemctl').slice(1)).toEqual([
      ['systemctl', 'reset-failed', 'srv-crypt.mount'],
      ['systemctl', 'start', 'srv-crypt.mount'],
    ]);
  });

  it('repair: a unit describing another mount is not started; the crypt is mounted directly', async () => {
    const runner = systemdRunner('start', `What=/dev/other\nWhere=${spec.where}\n`);
    expect((await startMountUnit('srv-crypt.mount', spec, { runner })).detail).toMatch(/mounted directly/);
    expect(runner.calls.find((a) => a[0] === 'mount')).toEqual(['mount', '--no-canonicalize', '-t', 'btrfs', '-o', 'noatime', spec.what, ANCHOR]);
    expect(runner.calls.some((a) => a[1] === 'start')).toBe(false);
  });
});
