// Method A for real on a loop device holding an ext4 "precious" with a file: refused without consent
// (device and data untouched), formatted with wipe: true, mounted and persisted by UUID=.
import { writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAnswers } from '../../src/install/answers/load.js';
import { exitCodeFor, RefusedError } from '../../src/base/errors.js';
import { createRunner } from '../../src/base/runner.js';
import { applyPlan, prepareInit, silentReporter } from '../../src/install/init.js';
import { skipReason } from '../helpers/env.js';
import { makeLoopDevice, sh } from '../helpers/host.js';
import { fstypeAt, isSubvolume } from '../helpers/init.js';
import { fakeRuntime } from '../helpers/fake-runtime.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';

const skip = skipReason('root', 'btrfs', 'loop');

function answersFor(scratch: Scratch, device: string, wipe: boolean) {
  const yaml = [
    'version: 1',
    `crypt: { path: ${JSON.stringify(scratch.path('crypt'))} }`,
    'method: partition',
    `partition: { device: ${device}, wipe: ${wipe} }`,
    `persist: { via: fstab, fstab: ${JSON.stringify(scratch.path('etc/fstab'))}, unitDir: ${JSON.stringify(scratch.path('units'))} }`,
    `install: { binDir: ${JSON.stringify(scratch.path('bin'))} }`,
    `registry: { dir: ${JSON.stringify(scratch.path('registry'))}, state: ${JSON.stringify(scratch.path('state'))} }`,
  ].join('\n');
  return parseAnswers(yaml, 'answers.yaml');
}

describe.skipIf(skip)(`init, Method A (partition) ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const scratches = scratchSuite();
  let scratch: Scratch;

  it('refuses a device holding data without consent, then formats it with wipe: true', async () => {
    scratch = await scratches.scratch();
    const dev = makeLoopDevice(scratch, 300);
    sh(['mkfs.ext4', '-q', '-L', 'precious', dev]);
    const probe = scratch.path('probe');
    mkdirSync(probe);
    sh(['mount', dev, probe]);
    writeFileSync(path.join(probe, 'keep.txt'), 'precious data\n');
    sh(['umount', probe]);
    const before = sh(['sha256sum', dev]);
    const runtime = await fakeRuntime(scratch.path('runtime'));
    const ctx = { runner: createRunner(), env: process.env, runtimeSource: runtime };

    const refused = await prepareInit(answersFor(scratch, dev, false), ctx).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RefusedError);
    expect(exitCodeFor(refused)).toBe(3);
    expect((refused as Error).message).toContain('holds data (ext4, label precious)');
    // Untouched: same bytes, the file still there, nothing created.
    expect(sh(['sha256sum', dev])).toBe(before);
    sh(['mount', '-o', 'ro', dev, probe]);
    expect(readFileSync(path.join(probe, 'keep.txt'), 'utf8')).toBe('precious data\n');
    sh(['umount', probe]);
    expect(() => sh(['ls', scratch.path('crypt')])).toThrow();

    const { plan } = await prepareInit(answersFor(scratch, dev, true), ctx);
    const uuid = plan.config.partition!.uuid!;
    const result = await applyPlan(plan, { runner: ctx.runner }, silentReporter);
    expect(result.changed).toBeGreaterThan(5);
    const crypt = scratch.path('crypt');
    expect(fstypeAt(crypt)).toBe('btrfs');
    expect(sh(['blkid', '-p', '-s', 'UUID', '-o', 'value', dev]).trim()).toBe(uuid);
    expect(sh(['blkid', '-p', '-s', 'LABEL', '-o', 'value', dev]).trim()).toBe('lychd');
    expect(isSubvolume(path.join(crypt, 'active'))).toBe(true);
    const fstab = readFileSync(scratch.path('etc/fstab'), 'utf8');
    expect(fstab).toBe(`UUID=${uuid} ${crypt} btrfs noatime,compress=zstd:1,x-lychd-crypt 0 0\n`);

    // Re-run (still with wipe: true): our filesystem is kept, nothing changes.
    const again = await prepareInit(answersFor(scratch, dev, true), ctx);
    expect(again.plan.steps.map((s) => s.kind)).not.toContain('mkfs-btrfs');
    expect((await applyPlan(again.plan, { runner: ctx.runner }, silentReporter)).changed).toBe(0);

    // The fstab line (by UUID) remounts it.
    sh(['umount', crypt]);
    sh(['mount', '--fstab', scratch.path('etc/fstab'), crypt]);
    expect(fstypeAt(crypt)).toBe('btrfs');

    // Unmounted, a run without wipe recognises its own filesystem from the mount record and only mounts it.
    sh(['umount', crypt]);
    const remount = await prepareInit(answersFor(scratch, dev, false), ctx);
    const r = await applyPlan(remount.plan, { runner: ctx.runner }, silentReporter);
    // (the registry entry is rewritten too: the answers now say wipe: false.)
    expect(r.steps.filter((s) => s.status === 'done').map((s) => s.kind)).toEqual(['mount', 'register']);
    expect(JSON.parse(readFileSync(scratch.path('registry/root.json'), 'utf8')).config.partition).toEqual({ device: dev, wipe: false, uuid });
    expect(fstypeAt(crypt)).toBe('btrfs');
  });
});
