// The dry run's probes on a temporary directory with a recording runner: each step kind is "already
// satisfied" exactly when its handler would find nothing to do, a file shows a diff, and a probe acts on
// nothing (the recording runner fails on any command it was not told about).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/model/config.js';
import { RecordingRunner } from '../../src/base/runner.js';
import { renderFstabLine, type MountSpec } from '../../src/install/render/index.js';
import { type InitStep as Step, type Plan, applyPlan, probePlan, probeStep, silentReporter } from '../../src/install/init.js';
import { fakeRuntime } from '../helpers/fake-runtime.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-probe-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const own = () => ({ uid: process.getuid!(), gid: process.getgid!() });
const spec = (): MountSpec => ({ what: '/img/crypt.img', where: path.join(dir, 'crypt'), type: 'btrfs', options: ['loop', 'noatime'] });
/** Nothing is mounted; systemctl says the unit is disabled; no other command may run. */
const readOnlyRunner = () =>
  new RecordingRunner((argv) => {
    if (argv[0] === 'findmnt') return { exitCode: 1 };
    if (argv[0] === 'systemctl' && argv[1] === 'is-enabled') return { exitCode: 1, stdout: 'disabled\n' };
    return undefined;
  });
const planOf = (...steps: Step[]): Plan => ({ version: 1, config: {} as Config, steps, notes: [] });

describe('probeStep', () => {
  it('files: satisfied when the content is there, else a unified diff of what would change', async () => {
    const runner = readOnlyRunner();
    const fstab = path.join(dir, 'fstab');
    writeFileSync(fstab, '/dev/sda1 / ext4 defaults 0 1\n');
    const write: Step = { kind: 'write-fstab-line', file: fstab, spec: spec(), line: renderFstabLine(spec()), reload: false };
    const before = await probeStep(write, { runner });
    expect(before.status).toBe('would-change');
    expect(before.diff).toBe([`--- ${fstab}`, `+++ ${fstab}`, '@@ -1 +1,2 @@', ' /dev/sda1 / ext4 defaults 0 1', `+${renderFstabLine(spec())}`].join('\n'));
    expect(readFileSync(fstab, 'utf8')).toBe('/dev/sda1 / ext4 defaults 0 1\n');
    await applyPlan(planOf(write), { runner }, silentReporter);
    expect(await probeStep(write, { runner })).toEqual({ status: 'satisfied', detail: 'line present' });
    // Edited by hand: one line differs, and the diff shows just that line.
    writeFileSync(fstab, readFileSync(fstab, 'utf8').replace('noatime', 'relatime'));
    const edited = await probeStep(write, { runner });
    expect(edited.status).toBe('would-change');
    expect(edited.diff!.split('\n').filter((l) => /^[-+][^-+]/.test(l))).toHaveLength(2);
    expect(await probeStep({ kind: 'remove-fstab-line', file: fstab, where: spec().where, reload: false }, { runner })).toMatchObject({ status: 'would-change', diff: expect.stringMatching(/^-.*relatime/m) });

    const unit: Step = { kind: 'write-mount-unit', path: path.join(dir, 'x.mount'), unit: 'x.mount', content: '[Mount]\nWhat=a\n', reload: false };
    expect(await probeStep(unit, { runner })).toMatchObject({ status: 'would-change', detail: 'new file', diff: expect.stringContaining('+What=a') });
    writeFileSync(path.join(dir, 'x.mount'), '[Mount]\nWhat=a\n');
    expect((await probeStep(unit, { runner })).status).toBe('satisfied');
    expect(await probeStep({ kind: 'remove-mount-unit', path: path.join(dir, 'x.mount'), unit: 'x.mount', systemd: false }, { runner })).toMatchObject({ status: 'would-change' });
    expect(await probeStep({ kind: 'remove-mount-unit', path: path.join(dir, 'y.mount'), unit: 'y.mount', systemd: false }, { runner })).toMatchObject({ status: 'satisfied' });
    expect(runner.calls.every((c) => c[0] === 'findmnt' || c[0] === 'systemctl')).toBe(true);
  });

  it('directories, ownership, the mount and the unit: satisfied only when as the step wants', async () => {
    const runner = readOnlyRunner();
    const d = path.join(dir, 'd');
    const create: Step = { kind: 'create-dir', path: d, mode: 0o755, owner: own() };
    expect((await probeStep(create, { runner })).status).toBe('would-change');
    expect((await probeStep({ kind: 'own-dir', path: d, owner: own(), mode: 0o750 }, { runner })).status).toBe('would-change');
    mkdirSync(d, { mode: 0o750 });
    expect(await probeStep(create, { runner })).toEqual({ status: 'satisfied', detail: 'exists' });
    expect((await probeStep({ kind: 'own-dir', path: d, owner: own(), mode: 0o750 }, { runner })).status).toBe('satisfied');
    expect((await probeStep({ kind: 'own-dir', path: d, owner: own(), mode: 0o700 }, { runner })).status).toBe('would-change');
    expect((await probeStep({ kind: 'remove-dir', path: d }, { runner })).status).toBe('would-change');
    expect((await probeStep({ kind: 'move-aside', from: d, to: path.join(dir, 'gone'), marker: null }, { runner })).status).toBe('would-change');
    const fs = { root: dir, uuid: null };
    expect((await probeStep({ kind: 'copy-data', from: d, entries: ['a'], to: dir, marker: null, fs, as: { user: 'root', ...own() } }, { runner })).status).toBe('would-change');
    expect((await probeStep({ kind: 'mount', spec: spec() }, { runner })).status).toBe('would-change');
    expect((await probeStep({ kind: 'unmount', path: spec().where }, { runner })).status).toBe('satisfied');
    expect((await probeStep({ kind: 'enable-mount-unit', unit: 'x.mount', path: '/x.mount' }, { runner })).status).toBe('would-change');
    // A regular directory where a subvolume belongs: would change (and init will refuse).
    expect(await probeStep({ kind: 'create-subvolume', path: d, owner: own(), fs }, { runner })).toMatchObject({ status: 'would-change', detail: expect.stringMatching(/not a subvolume/) });
  });

  it('the image and the runtime: by size and by content', async () => {
    const runner = readOnlyRunner();
    const img = path.join(dir, 'crypt.img');
    const step: Step = { kind: 'create-image', path: img, sizeBytes: 4096, nocow: false };
    expect((await probeStep(step, { runner })).status).toBe('would-change');
    writeFileSync(img, Buffer.alloc(4096));
    expect((await probeStep(step, { runner })).status).toBe('satisfied');
    // The runtime: installed when the command is an entry of a directory with the same manifest (the same build).
    const src = await fakeRuntime(path.join(dir, 'build-two'), 'two');
    const target = path.join(dir, 'lychd-crypt');
    const install: Step = { kind: 'install-runtime', source: src, target, mode: 0o755 };
    expect((await probeStep(install, { runner })).status).toBe('would-change');
    symlinkSync(await fakeRuntime(path.join(dir, 'installed-one'), 'one'), target);
    expect(await probeStep(install, { runner })).toEqual({ status: 'would-change', detail: 'another version is installed' });
    rmSync(target);
    symlinkSync(await fakeRuntime(path.join(dir, 'installed-two'), 'two'), target);
    expect((await probeStep(install, { runner })).status).toBe('satisfied');
  });

  it('a probe that cannot look says the step would run, and probePlan keeps the order', async () => {
    const runner = new RecordingRunner(() => undefined); // every command fails
    const probes = await probePlan(planOf({ kind: 'mount', spec: spec() }, { kind: 'create-dir', path: dir, mode: 0o755, owner: own() }), { runner });
    expect(probes[0]).toMatchObject({ status: 'would-change', detail: expect.stringMatching(/^could not check: unexpected command/) });
    expect(probes[1]).toEqual({ status: 'satisfied', detail: 'exists' });
  });
});
