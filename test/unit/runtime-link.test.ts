// With the Debian package installed, init (and repair) make <binDir>/lychd-crypt a symlink to the packaged
// runtime instead of copying their own bundle: a package upgrade then upgrades the crypt's command too.
import { lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { answersSchema } from '../../src/install/answers/schema.js';
import { RecordingRunner } from '../../src/base/runner.js';
import type { HostFacts } from '../../src/install/detect/facts.js';
import { PACKAGED_RUNTIME } from '../../src/base/bundle/packaged.js';
import { describePlan, planInit, type Plan, type Step, applyPlan, silentReporter, resolveConfig } from '../../src/install/init.js';

const facts = (runtimeSource: string): HostFacts => ({
  ...(JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../fixtures/init/facts-ext4-host.json'), 'utf8')) as HostFacts),
  runtimeSource,
});
const answers = answersSchema.parse({
  version: 1,
  crypt: { path: '/srv/t/host/data/crypt' },
  loopback: { image: '/srv/t/host/img/crypt.img', size: '200M' },
  persist: { fstab: '/srv/t/etc/fstab', unitDir: '/srv/t/units' },
  install: { binDir: '/srv/t/bin' },
});
const installStep = (p: Plan) => p.steps.find((s) => s.kind === 'install-runtime');

describe('the packaged runtime', () => {
  it('is linked, not copied, when it is the runtime init found', () => {
    const f = facts(PACKAGED_RUNTIME);
    const plan = planInit(f, resolveConfig(answers, f));
    expect(installStep(plan)).toEqual({ kind: 'install-runtime', source: PACKAGED_RUNTIME, target: '/srv/t/bin/lychd-crypt', mode: 0o755, link: true });
    expect(describePlan(plan)).toContain(`symlink /srv/t/bin/lychd-crypt -> ${PACKAGED_RUNTIME}`);
  });

  it('a bundle elsewhere is still copied', () => {
    const f = facts('/opt/lychd/dist/lychd-crypt.js');
    expect(installStep(planInit(f, resolveConfig(answers, f)))).not.toHaveProperty('link');
  });

  describe('applying the link', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-link-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('replaces a copied runtime with the link, and a second run changes nothing', async () => {
      const source = path.join(dir, 'usr/lib/lychd-crypt/lychd-crypt.js');
      mkdirSync(path.dirname(source), { recursive: true });
      writeFileSync(source, '#!/usr/bin/node\n', { mode: 0o755 });
      const target = path.join(dir, 'bin/lychd-crypt');
      mkdirSync(path.dirname(target));
      writeFileSync(target, '#!/usr/bin/env node\n// an older copy\n', { mode: 0o755 });
      const step: Step = { kind: 'install-runtime', source, target, mode: 0o755, link: true };
      const plan: Plan = { version: 1, config: {} as Plan['config'], steps: [step], notes: [] };
      const runner = new RecordingRunner();
      expect((await applyPlan(plan, { runner }, silentReporter)).changed).toBe(1);
      expect(lstatSync(target).isSymbolicLink()).toBe(true);
      expect(readlinkSync(target)).toBe(source);
      const again = await applyPlan(plan, { runner }, silentReporter);
      expect(again.steps.map((s) => s.status)).toEqual(['unchanged']);
      expect(runner.calls).toEqual([]);
    });
  });
});
