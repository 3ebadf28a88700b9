// Pure parts of doctor and repair: the planner (order, dedupe, consent), the lsattr parser, the
// free-space threshold, the JSON document, and the persistence checks on scratch files.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordingRunner } from '../../src/base/runner.js';
import { checkPersist } from '../../src/care/check-persist.js';
import { isLow } from '../../src/care/check-space.js';
import type { DoctorEnv, MountView } from '../../src/care/doctor-env.js';
import { parseLsattr } from '../../src/care/nocow-scan.js';
import { doctorJson } from '../../src/care/render-doctor.js';
import { fixable, manual, ok } from '../../src/care/findings.js';
import { planRepair } from '../../src/care/plan.js';
import { isDestructive, STEP_ORDER } from '../../src/care/plan.js';
import { describeRepairStep as describeStep } from '../../src/care/steps/index.js';
import type { RepairStep } from '../../src/model/steps.js';
import { renderFstabLine, renderMountUnit, unitNameForPath } from '../../src/install/render/index.js';
import { humanSize } from '../../src/model/units.js';

const spec = { what: '/var/lib/lychd/crypt.img', where: '/srv/crypt', type: 'btrfs' as const, options: ['loop', 'noatime'] };

describe('planRepair', () => {
  it('orders steps (mount first), merges the same fix found twice, lists manual fixes and flags destructive steps', () => {
    const del: RepairStep = { kind: 'delete-subvolume', path: '/srv/crypt/.staging-x', why: 'stray' };
    const checks = [
      ok('mount.path', 'fine'),
      fixable('layout.staging', 'stray', 'delete', [del]),
      fixable('mount.mounted', 'not mounted', 'mount', [{ kind: 'mount', spec }]),
      fixable('persist.fstab', 'missing', 'write', [{ kind: 'write-fstab-line', file: '/etc/fstab', spec, line: renderFstabLine(spec), reload: false }]),
      fixable('again', 'same', 'delete', [del]),
      manual('space.crypt', 'low', 'prune'),
    ];
    const plan = planRepair(checks);
    expect(plan.steps.map((s) => s.kind)).toEqual(['mount', 'write-fstab-line', 'delete-subvolume']);
    expect(plan.destructive).toBe(true);
    expect(plan.manual).toEqual([{ id: 'space.crypt', finding: 'low', fix: 'prune' }]);
  });

  it('keeps one unmount per stacked copy, and needs no consent without destructive steps', () => {
    const un: RepairStep = { kind: 'unmount-stacked', where: '/srv/crypt' };
    const plan = planRepair([fixable('mount.twice', 'x3', 'unmount', [un, un])]);
    expect(plan.steps).toEqual([un, un]);
    expect(plan.destructive).toBe(false);
  });

  it('a healthy report plans nothing', () => {
    expect(planRepair([ok('a.b', 'fine')])).toEqual({ version: 1, steps: [], manual: [], destructive: false });
  });

  it('every step kind has a place in the order and a description', () => {
    const kinds = new Set(STEP_ORDER);
    expect(kinds.size).toBe(STEP_ORDER.length);
    expect(describeStep({ kind: 'nocow-rewrite', pgdata: '/p', files: 3 })).toMatch(/stopped/);
    expect(isDestructive({ kind: 'nocow-rewrite', pgdata: '/p', files: 3 })).toBe(true);
    expect(isDestructive({ kind: 'write-fstab-line', file: '/etc/fstab', spec, line: renderFstabLine(spec), reload: false })).toBe(false);
  });
});

describe('parseLsattr / isLow / doctorJson', () => {
  it('reads flags per path, paths with blanks included', () => {
    const m = parseLsattr('---------------C------ /a/b c\n---------------------- /a/d\n');
    expect([...m]).toEqual([
      ['/a/b c', true],
      ['/a/d', false],
    ]);
  });

  it('sizes for people', () => {
    expect([humanSize(512), humanSize(300 * 2 ** 20), humanSize(1.5 * 2 ** 30), humanSize(83317348 * 1024)]).toEqual(['512 B', '300 MiB', '1.5 GiB', '79.5 GiB']);
  });

  it('low space: under 10% and under 1 GiB', () => {
    expect(isLow(20 * 2 ** 20, 256 * 2 ** 20)).toBe(true);
    expect(isLow(30 * 2 ** 20, 256 * 2 ** 20)).toBe(false);
    expect(isLow(1.5 * 2 ** 30, 100 * 2 ** 30)).toBe(false);
    expect(isLow(0.5 * 2 ** 30, 100 * 2 ** 30)).toBe(true);
  });

  it('the JSON document: version, healthy, counts, and each check without its internal steps', () => {
    const json = doctorJson('/srv/crypt', [ok('mount.path', 'fine'), fixable('layout.snapshots', 'missing', 'create', [{ kind: 'create-dir', path: '/x', mode: 0o755, owner: { uid: 0, gid: 0 } }])]);
    expect(json).toEqual({
      version: 1,
      crypt: '/srv/crypt',
      healthy: false,
      problems: 1,
      cannotCheck: 0,
      checks: [
        { id: 'mount.path', group: 'mount', status: 'ok', finding: 'fine', fix: null },
        { id: 'layout.snapshots', group: 'layout', status: 'problem', finding: 'missing', fix: { repair: 'create' } },
      ],
    });
  });
});

describe('checkPersist', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function setup(via: 'fstab' | 'systemd', systemd = false, enabled = 'enabled'): { env: DoctorEnv; view: MountView; fstab: string; unit: string } {
    dir = mkdtempSync(path.join(os.tmpdir(), 'doctor-unit-'));
    mkdirSync(path.join(dir, 'units'));
    const unit = path.join(dir, 'units', unitNameForPath(spec.where));
    const view: MountView = {
      method: 'loopback',
      spec,
      image: spec.what,
      device: null,
      persist: { via, fstab: path.join(dir, 'fstab'), unitPath: unit, unit: unitNameForPath(spec.where) },
      source: 'config',
    };
    const runner = new RecordingRunner((argv) =>
      argv[0] === 'systemd-analyze' ? { stdout: '' } : argv[0] === 'systemctl' ? { stdout: `${enabled}\n`, exitCode: enabled === 'enabled' ? 0 : 1 } : undefined,
    );
    return { env: { runner, systemd } as unknown as DoctorEnv, view, fstab: view.persist.fstab!, unit };
  }
  const byId = async (env: DoctorEnv, view: MountView) => Object.fromEntries((await checkPersist(env, view)).map((c) => [c.id, c]));

  it('fstab: one rendered line is ok; missing, duplicated and stale lines are rewritten; a foreign line is manual', async () => {
    const { env, view, fstab } = setup('fstab');
    const line = renderFstabLine(spec);
    writeFileSync(fstab, `# host\n${line}\n`);
    expect((await byId(env, view))['persist.fstab']!.status).toBe('ok');
    writeFileSync(fstab, '# host\n');
    expect((await byId(env, view))['persist.fstab']!.finding).toMatch(/has no line/);
    writeFileSync(fstab, `${line}\n${line}\n`);
    expect((await byId(env, view))['persist.fstab']!.finding).toMatch(/2 lines/);
    writeFileSync(fstab, `${line.replace('noatime', 'relatime')}\n`);
    const stale = (await byId(env, view))['persist.fstab']!;
    expect(stale.finding).toMatch(/differs/);
    expect(stale.steps).toEqual([{ kind: 'write-fstab-line', file: fstab, spec, line: renderFstabLine(spec), reload: false }]);
    writeFileSync(fstab, `/dev/sdz ${spec.where} ext4 defaults 0 0\n`);
    expect((await byId(env, view))['persist.fstab']!.fix).toHaveProperty('manual');
  });

  it('systemd: the unit is written when missing, and a leftover fstab line of ours is removed (never both)', async () => {
    const { env, view, fstab, unit } = setup('systemd');
    writeFileSync(fstab, `${renderFstabLine(spec)}\n`);
    const checks = await byId(env, view);
    expect(checks['persist.unit']!.steps).toEqual([{ kind: 'write-mount-unit', path: unit, unit: path.basename(unit), content: renderMountUnit(spec), reload: false, backup: true }]);
    expect(checks['persist.fstab']!.steps).toEqual([{ kind: 'remove-fstab-line', file: fstab, where: spec.where, reload: false }]);
    writeFileSync(unit, renderMountUnit(spec));
    writeFileSync(fstab, '');
    const healthy = await byId(env, view);
    expect(healthy['persist.unit']!.status).toBe('ok');
    expect(healthy['persist.fstab']!.status).toBe('ok');
  });

  it('systemd running: a unit that is not enabled gets enabled', async () => {
    const { env, view, unit } = setup('systemd', true, 'disabled');
    writeFileSync(unit, renderMountUnit(spec));
    const check = (await byId(env, view))['persist.unit']!;
    expect(check.finding).toMatch(/not enabled \(disabled\)/);
    expect(check.steps).toEqual([{ kind: 'enable-mount-unit', path: unit, unit: path.basename(unit) }]);
  });
});
