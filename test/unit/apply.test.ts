// Handlers on a temporary directory with a recording runner: file steps check before they act, fstab edits
// keep a backup, systemd is only called when the plan says systemd runs.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/model/config.js';
import { RecordingRunner } from '../../src/base/runner.js';
import { renderFstabLine, type MountSpec } from '../../src/install/render/index.js';
import { fakeRuntime } from '../helpers/fake-runtime.js';
import { type InitStep as Step, type Plan, applyPlan, silentReporter, type StepEvent } from '../../src/install/init.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-apply-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const planOf = (...steps: Step[]): Plan => ({ version: 1, config: {} as Config, steps, notes: [] });
const spec = (): MountSpec => ({ what: '/img/crypt.img', where: path.join(dir, 'my crypt'), type: 'btrfs', options: ['loop', 'noatime'] });

describe('applyPlan handlers', () => {
  it('write-fstab-line: appends with a backup, then is unchanged, and replaces only our line', async () => {
    const fstab = path.join(dir, 'fstab');
    writeFileSync(fstab, '/dev/sda1 / ext4 defaults 0 1\n', { mode: 0o640 });
    const runner = new RecordingRunner();
    const step: Step = { kind: 'write-fstab-line', file: fstab, spec: spec(), line: renderFstabLine(spec()), reload: false };
    expect((await applyPlan(planOf(step), { runner }, silentReporter)).changed).toBe(1);
    expect(readFileSync(fstab, 'utf8')).toBe(`/dev/sda1 / ext4 defaults 0 1\n${renderFstabLine(spec())}\n`);
    expect(readFileSync(`${fstab}.lychd-crypt.bak`, 'utf8')).toBe('/dev/sda1 / ext4 defaults 0 1\n');
    expect(statSync(fstab).mode & 0o777).toBe(0o640);
    expect((await applyPlan(planOf(step), { runner }, silentReporter)).changed).toBe(0);
    const other = { ...spec(), options: ['loop'] };
    await applyPlan(planOf({ ...step, spec: other, line: renderFstabLine(other) }), { runner }, silentReporter);
    expect(readFileSync(fstab, 'utf8')).toBe(`/dev/sda1 / ext4 defaults 0 1\n${renderFstabLine(other)}\n`);
    await applyPlan(planOf({ kind: 'remove-fstab-line', file: fstab, where: spec().where, reload: false }), { runner }, silentReporter);
    expect(readFileSync(fstab, 'utf8')).toBe('/dev/sda1 / ext4 defaults 0 1\n');
    expect(runner.calls).toEqual([]);
  });

  it('write-mount-unit reloads systemd only when it runs; enable uses the full path outside the search path', async () => {
    const unit = path.join(dir, 'units/x.mount');
    const runner = new RecordingRunner((argv) => (argv[1] === 'is-enabled' ? { exitCode: 1, stdout: 'disabled\n' } : {}));
    const events: StepEvent[] = [];
    const r = await applyPlan(
      planOf({ kind: 'write-mount-unit', path: unit, unit: 'x.mount', content: '[Mount]\n', reload: true }, { kind: 'enable-mount-unit', unit: 'x.mount', path: unit }),
      { runner },
      { onStep: (e) => events.push(e) },
    );
    expect(r.changed).toBe(2);
    expect(runner.calls).toEqual([
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'is-enabled', 'x.mount'],
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', unit],
    ]);
    expect(events.map((e) => `${e.index}:${e.status}`)).toEqual(['0:start', '0:done', '1:start', '1:done']);
  });

  it('write-file, create-dir and install-runtime are unchanged on a second run', async () => {
    const src = await fakeRuntime(path.join(dir, 'dist'));
    const own = { uid: process.getuid!(), gid: process.getgid!() };
    const plan = planOf(
      { kind: 'create-dir', path: path.join(dir, 'state'), mode: 0o700, owner: own },
      { kind: 'write-file', path: path.join(dir, 'state/config.json'), content: '{}\n', mode: 0o644 },
      { kind: 'install-runtime', source: src, target: path.join(dir, 'bin/lychd-crypt'), mode: 0o755 },
    );
    const runner = new RecordingRunner();
    expect((await applyPlan(plan, { runner }, silentReporter)).changed).toBe(3);
    expect(statSync(path.join(dir, 'state')).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dir, 'bin/lychd-crypt')).mode & 0o777).toBe(0o755);
    const again = await applyPlan(plan, { runner }, silentReporter);
    expect(again.changed).toBe(0);
    expect(again.steps.map((s) => s.status)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    // A changed answer converges: only config.json is rewritten.
    const changed = planOf(...plan.steps.slice(0, 1), { kind: 'write-file', path: path.join(dir, 'state/config.json'), content: '{"x":1}\n', mode: 0o644 }, ...plan.steps.slice(2));
    expect((await applyPlan(changed, { runner }, silentReporter)).steps.map((s) => s.status)).toEqual(['unchanged', 'done', 'unchanged']);
    expect(runner.calls).toEqual([]);
  });

  it('a failing step is reported with its title, and later steps do not run', async () => {
    const runner = new RecordingRunner(() => ({ exitCode: 1, stderr: 'boom' }));
    const later = path.join(dir, 'later');
    const e = await applyPlan(
      planOf({ kind: 'create-image', path: path.join(dir, 'c.img'), sizeBytes: 4096, nocow: false }, { kind: 'create-dir', path: later, mode: 0o755, owner: { uid: 0, gid: 0 } }),
      { runner },
      silentReporter,
    ).catch((x: unknown) => x);
    expect((e as Error).message).toMatch(/^step "create image .*c\.img .*" failed: command failed \(exit 1\): truncate/);
    expect(existsSync(later)).toBe(false);
  });
});

describe('remove-mount-unit', () => {
  it('disables, removes and reloads when systemd runs; only removes when it does not', async () => {
    const unit = path.join(dir, 'x.mount');
    writeFileSync(unit, '[Mount]\n');
    const runner = new RecordingRunner(() => ({}));
    await applyPlan(planOf({ kind: 'remove-mount-unit', path: unit, unit: 'x.mount', systemd: true }), { runner }, silentReporter);
    expect(existsSync(unit)).toBe(false);
    expect(runner.calls).toEqual([['systemctl', 'disable', 'x.mount'], ['systemctl', 'daemon-reload']]);
    writeFileSync(unit, '[Mount]\n');
    const quiet = new RecordingRunner();
    const r = await applyPlan(planOf({ kind: 'remove-mount-unit', path: unit, unit: 'x.mount', systemd: false }), { runner: quiet }, silentReporter);
    expect(r.changed).toBe(1);
    expect(quiet.calls).toEqual([]);
  });
});
