// The one-screen preview (summarizePlan), the dry-run rendering (describeDryRun), the unified diff, and the
// proposed image size: pure functions on recorded host facts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { answersSchema } from '../../src/install/answers/schema.js';
import type { HostFacts } from '../../src/install/detect/facts.js';
import { proposeImageSize } from '../../src/install/propose.js';
import { type StepProbe } from '../../src/install/plan/index.js';
import { unifiedDiff } from '../../src/install/render/diff.js';
import { describeDryRun, describePlan, planInit, summarizePlan, resolveConfig } from '../../src/install/init.js';

const T = '/srv/t';
const facts = (): HostFacts => JSON.parse(readFileSync(new URL('../fixtures/init/facts-ext4-host.json', import.meta.url), 'utf8')) as HostFacts;
const planFor = (over: Record<string, unknown>) => {
  const f = facts();
  const answers = answersSchema.parse({ version: 1, crypt: { path: `${T}/host/data/crypt` }, persist: { fstab: `${T}/etc/fstab`, unitDir: `${T}/units` }, install: { binDir: `${T}/bin` }, ...over });
  return planInit(f, resolveConfig(answers, f));
};

describe('summarizePlan', () => {
  it('a loopback plan: what is formatted, mounted where, which host files change, what is installed — on one screen', () => {
    const plan = planFor({ method: 'loopback', loopback: { image: `${T}/host/img/crypt.img`, size: '200M' }, persist: { via: 'fstab', fstab: `${T}/etc/fstab` } });
    const lines = summarizePlan(plan);
    const text = lines.join('\n');
    expect(lines.length).toBeLessThan(30);
    expect(describePlan(plan).split('\n').length).toBeGreaterThan(lines.length);
    expect(text).toMatch(new RegExp(`^crypt ${T}/host/data/crypt for root, method loopback, \\d+ steps`));
    expect(text).toContain(`Formats:\n  new image ${T}/host/img/crypt.img (200M, sparse)\n  ${T}/host/img/crypt.img as Btrfs (label lychd)`);
    expect(text).toContain(`Mounts:\n  ${T}/host/img/crypt.img at ${T}/host/data/crypt\n  at boot via ${T}/etc/fstab`);
    expect(text).toContain(`Host files:\n  ${T}/etc/fstab (one line, tagged x-lychd-crypt; backup kept)`);
    expect(text).toMatch(/registry entry/);
    expect(text).toContain(`Installs:\n  ${T}/bin/lychd-crypt`);
    expect(text).toContain(`subvolume ${T}/host/data/crypt/active`);
    // No file content, no command lines.
    expect(text).not.toMatch(/\$ |\| /);
  });

  it('a device holding data says it is erased', () => {
    const plan = planFor({ method: 'partition', partition: { device: '/dev/loop1', wipe: true } });
    expect(summarizePlan(plan).join('\n')).toMatch(/\/dev\/loop1 as Btrfs \(label lychd\): ERASES what it holds/);
  });
});

describe('describeDryRun', () => {
  it('marks each step already satisfied or would change; a file shows a diff, not its whole content', () => {
    const plan = planFor({ method: 'loopback', loopback: { image: `${T}/host/img/crypt.img`, size: '200M' }, persist: { via: 'fstab', fstab: `${T}/etc/fstab` } });
    const fstabIdx = plan.steps.findIndex((s) => s.kind === 'write-fstab-line');
    const probes: StepProbe[] = plan.steps.map((_, i) =>
      i === fstabIdx ? { status: 'would-change', diff: unifiedDiff('a\nold line\n', 'a\nnew line\n', `${T}/etc/fstab`) } : { status: 'satisfied', detail: 'exists' },
    );
    const text = describeDryRun(plan, probes);
    expect(text).toMatch(new RegExp(`^${fstabIdx + 1}\\. persist the mount in ${T}/etc/fstab: would change$`, 'm'));
    expect(text).toMatch(/^1\. .*: already satisfied \(exists\)$/m);
    expect(text).toContain('       -old line\n       +new line');
    expect(text).toMatch(/1 of \d+ steps would change$/);
    const all = describeDryRun(plan, plan.steps.map(() => ({ status: 'satisfied' as const })));
    expect(all).toMatch(/all \d+ steps are already satisfied: a real run would change nothing$/);
    expect(all).not.toMatch(/\$ /);
  });
});

describe('unifiedDiff', () => {
  it('equal texts: no diff', () => expect(unifiedDiff('a\n', 'a\n', 'f')).toBe(''));
  it('a changed line with context, hunk ranges as diff -u prints them', () => {
    const before = ['1', '2', '3', '4', '5', '6', '7', '8', '9'].join('\n') + '\n';
    const after = before.replace('5\n', 'five\n');
    expect(unifiedDiff(before, after, '/etc/fstab')).toBe(['--- /etc/fstab', '+++ /etc/fstab', '@@ -2,7 +2,7 @@', ' 2', ' 3', ' 4', '-5', '+five', ' 6', ' 7', ' 8'].join('\n'));
  });
  it('a new file and a removed one', () => {
    expect(unifiedDiff('', 'x\ny\n', '/u')).toBe(['--- /dev/null', '+++ /u', '@@ -0,0 +1,2 @@', '+x', '+y'].join('\n'));
    expect(unifiedDiff('x\n', '', '/u')).toBe(['--- /u', '+++ /dev/null', '@@ -1 +0,0 @@', '-x'].join('\n'));
  });
  it('two far-apart changes make two hunks', () => {
    const lines = Array.from({ length: 20 }, (_, i) => String(i));
    const after = lines.map((l) => (l === '1' || l === '18' ? `${l}!` : l));
    const d = unifiedDiff(`${lines.join('\n')}\n`, `${after.join('\n')}\n`, 'f');
    expect(d.match(/^@@/gm)).toHaveLength(2);
  });
});

describe('proposeImageSize', () => {
  it('20G when there is room, else 80% of the free space, rounded down; never below 128M', () => {
    expect(proposeImageSize(undefined)).toBe('20G');
    expect(proposeImageSize(100 * 2 ** 30)).toBe('20G');
    expect(proposeImageSize(2.7 * 2 ** 30)).toBe('2G');
    expect(proposeImageSize(264345600)).toBe('192M');
    expect(proposeImageSize(50 * 2 ** 20)).toBe('128M');
  });

  it('an answers file without a size gets the proposed one (252M free on the fixture host: 192M)', () => {
    const plan = planFor({ method: 'loopback', loopback: { image: `${T}/host/img/crypt.img` } });
    expect(plan.config.loopback!.sizeBytes).toBe(192 * 2 ** 20);
  });
});
