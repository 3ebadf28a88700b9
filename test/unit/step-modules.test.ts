// One module per step kind: what describe shows is what apply runs. For every kind whose apply can run
// against a recording runner in a temporary directory, the commands apply runs — leaving out, on both sides, the queries
// it makes first (findmnt, wipefs --no-act, systemctl is-enabled/show, …) — are exactly describe's
// commands, in order. (mount, grow-image and copy-data act on a real mount or filesystem: their argv
// builders are shared between describe and apply instead, and the real tests run them.)
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordingRunner } from '../../src/base/runner.js';
import { INIT_STEPS } from '../../src/install/steps/index.js';
import { REPAIR_STEPS } from '../../src/care/steps/index.js';
import { moduleOf } from '../../src/install/steps/module.js';
import { renderFstabLine } from '../../src/install/render/index.js';
import type { MountSpec } from '../../src/model/mount-spec.js';
import type { InitStep, RepairStep } from '../../src/model/steps.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-step-modules-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Commands that only ask: a step makes them before it acts, as its probe does. */
const QUERY = (argv: string[]) =>
  argv[0] === 'findmnt' ||
  (argv[0] === 'wipefs' && argv.includes('--no-act')) ||
  (argv[0] === 'loginctl' && argv[1] === 'show-user') ||
  (argv.includes('systemctl') && ['is-enabled', 'show'].some((v) => argv.includes(v)));

/** findmnt finds `mounted` (as many copies as given) at any mount point asked; systemctl says disabled; everything else succeeds. */
const runnerFor = (mounted: { target: string; copies?: number } | null = null) =>
  new RecordingRunner((argv) => {
    if (argv[0] === 'findmnt') {
      if (!mounted) return { exitCode: 1 };
      const fs = { target: mounted.target, source: '/dev/loop9', fstype: 'btrfs', options: 'rw' };
      return { stdout: JSON.stringify({ filesystems: Array.from({ length: mounted.copies ?? 1 }, () => fs) }) };
    }
    if (argv.includes('is-enabled')) return { exitCode: 1, stdout: 'disabled\n' };
    if (argv[0] === 'wipefs') return { stdout: '{"signatures": []}' };
    return {};
  });

async function check<S extends InitStep | RepairStep>(table: Parameters<typeof moduleOf<S>>[0], step: S, runner = runnerFor()): Promise<void> {
  const m = moduleOf(table, step);
  const shown = m.describe(step).commands.filter((c) => !QUERY(c));
  await m.apply(step, { runner });
  expect(runner.calls.filter((c) => !QUERY(c)), step.kind).toEqual(shown);
}

describe('describe lists exactly the commands apply runs', () => {
  const spec = (): MountSpec => ({ what: '/img/crypt.img', where: path.join(dir, 'crypt'), type: 'btrfs', options: ['loop', 'noatime'] });
  const own = () => ({ uid: process.getuid!(), gid: process.getgid!() });
  const user = { name: 'nobody', uid: 65534, gid: 65534 };

  it('init kinds', async () => {
    await check(INIT_STEPS, { kind: 'create-image', path: path.join(dir, 'crypt.img'), sizeBytes: 1 << 20, nocow: true });
    await check(INIT_STEPS, { kind: 'mkfs-btrfs', device: path.join(dir, 'dev'), label: 'lychd', uuid: '0b1c2d3e-0000-4000-8000-000000000001', wipe: false });
    await check(INIT_STEPS, { kind: 'unmount', path: path.join(dir, 'm') }, runnerFor({ target: path.join(dir, 'm') }));
    await check(INIT_STEPS, { kind: 'write-fstab-line', file: path.join(dir, 'fstab'), spec: spec(), line: renderFstabLine(spec()), reload: true });
    await check(INIT_STEPS, { kind: 'remove-fstab-line', file: path.join(dir, 'fstab'), where: spec().where, reload: true });
    await check(INIT_STEPS, { kind: 'write-mount-unit', path: path.join(dir, 'x.mount'), unit: 'x.mount', content: '[Mount]\n', reload: true, backup: true });
    await check(INIT_STEPS, { kind: 'remove-mount-unit', path: path.join(dir, 'x.mount'), unit: 'x.mount', systemd: true, backup: true });
    await check(INIT_STEPS, { kind: 'enable-mount-unit', unit: 'x.mount', path: '/etc/systemd/system/x.mount' });
    await check(INIT_STEPS, { kind: 'create-dir', path: path.join(dir, 'd'), mode: 0o755, owner: own() });
    await check(INIT_STEPS, { kind: 'remove-dir', path: path.join(dir, 'd') });
    await check(INIT_STEPS, { kind: 'write-file', path: path.join(dir, 'f'), content: 'x\n', mode: 0o600 });
    await check(INIT_STEPS, { kind: 'write-mount-record', path: path.join(dir, 'record.json'), content: '{}\n' });
    await check(INIT_STEPS, { kind: 'write-unit', path: path.join(dir, 'x.timer'), unit: 'x.timer', content: '[Timer]\n' });
    await check(INIT_STEPS, { kind: 'enable-timer', unit: 'x.timer' });
    await check(INIT_STEPS, { kind: 'enable-timer', unit: 'x.timer', user });
    await check(INIT_STEPS, { kind: 'remove-unit', path: path.join(dir, 'x.timer'), unit: 'x.timer', systemd: true });
    expect(existsSync(path.join(dir, 'x.timer'))).toBe(false);
  });

  it("repair's own kinds", async () => {
    await check(REPAIR_STEPS, { kind: 'unmount-stacked', where: path.join(dir, 'c') }, runnerFor({ target: path.join(dir, 'c'), copies: 2 }));
    mkdirSync(path.join(dir, '.staging-x'));
    await check(REPAIR_STEPS, { kind: 'delete-subvolume', path: path.join(dir, '.staging-x'), why: 'stray staging subvolume .staging-x' });
    await check(REPAIR_STEPS, { kind: 'remove-tree', path: path.join(dir, '.staging-x'), why: 'a leftover' });
    writeFileSync(path.join(dir, 'orphan.json'), '{}');
    await check(REPAIR_STEPS, { kind: 'remove-file', path: path.join(dir, 'orphan.json'), why: 'orphan metadata orphan.json' });
    writeFileSync(path.join(dir, 'journal.json'), '{');
    await check(REPAIR_STEPS, { kind: 'set-aside', path: path.join(dir, 'journal.json'), why: 'the unusable journal' });
  });
});
