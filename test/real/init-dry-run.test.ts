// --dry-run on an existing crypt, for real: every step is "already satisfied" (a real run would change
// nothing); after the fstab line was edited by hand, exactly that step "would change", with a diff; the
// converging run says what it changed, and the dry run after it is all satisfied again.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { runCli, writeAnswers } from '../helpers/init.js';
import { cliSuite } from '../helpers/suite.js';
import { hostFs } from '../helpers/scenes.js';

const skip = skipReason('root', 'btrfs', 'loop');

interface ProbedStep {
  kind: string;
  probe: { status: 'satisfied' | 'would-change'; detail?: string; diff?: string };
}

describe.skipIf(skip)(`init --dry-run on an existing crypt ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  it('all satisfied; a hand-edited fstab line is the one step that would change, with a diff', async () => {
    const scratch = await suite.scratch();
    const cli = suite.bundle;
    const host = await hostFs(scratch, 'ext4', 512);
    const crypt = path.join(host, 'crypt');
    const image = path.join(host, 'img/crypt.img');
    const answers = writeAnswers(scratch, { crypt: { path: crypt }, method: 'loopback', loopback: { image, size: '256M' }, persist: { via: 'fstab' } });
    const first = runCli(cli, ['init', '--answers', answers, '--yes', '--json']);
    expect(first.code, first.stderr).toBe(0);

    // Right after init: nothing would change, and the human output says so for every step.
    const dry = runCli(cli, ['--json', 'init', '--answers', answers, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    const steps = dry.json.plan.steps as ProbedStep[];
    expect(steps.length).toBeGreaterThan(5);
    expect(steps.filter((s) => s.probe.status !== 'satisfied').map((s) => [s.kind, s.probe.detail])).toEqual([]);
    expect(dry.json.wouldChange).toBe(0);
    const human = runCli(cli, ['init', '--answers', answers, '--dry-run']);
    expect(human.code, human.stderr).toBe(0);
    const numbered = human.stdout.split('\n').filter((l) => /^\d+\. /.test(l));
    expect(numbered).toHaveLength(steps.length);
    expect(numbered.every((l) => l.includes(': already satisfied'))).toBe(true);
    expect(human.stdout).toMatch(/all \d+ steps are already satisfied: a real run would change nothing/);
    expect(human.stdout).toContain('(dry run: nothing was changed)');

    // An administrator edits the line by hand.
    const fstab = scratch.path('etc/fstab');
    const original = readFileSync(fstab, 'utf8');
    writeFileSync(fstab, `# local\n${original.replace('noatime', 'relatime')}`);
    const edited = readFileSync(fstab, 'utf8');
    const dry2 = runCli(cli, ['--json', 'init', '--answers', answers, '--dry-run']);
    expect(dry2.code, dry2.stderr).toBe(0);
    const changing = (dry2.json.plan.steps as ProbedStep[]).filter((s) => s.probe.status === 'would-change');
    expect(changing.map((s) => s.kind)).toEqual(['write-fstab-line']);
    const diff = changing[0]!.probe.diff!.split('\n');
    expect(diff.slice(0, 2)).toEqual([`--- ${fstab}`, `+++ ${fstab}`]);
    expect(diff).toContain(` # local`);
    expect(diff).toContain(`-${edited.split('\n')[1]}`);
    expect(diff).toContain(`+${original.trimEnd()}`);
    const human2 = runCli(cli, ['init', '--answers', answers, '--dry-run']);
    expect(human2.stdout).toMatch(/^\d+\. persist the mount in .*fstab: would change$/m);
    expect(human2.stdout).toMatch(/^ +-.*relatime/m);
    expect(human2.stdout).toMatch(/1 of \d+ steps would change/);
    expect(readFileSync(fstab, 'utf8')).toBe(edited); // a dry run changes nothing

    // The converging run says what it changed; then everything is satisfied again.
    const fix = runCli(cli, ['init', '--answers', answers, '--yes']);
    expect(fix.code, fix.stderr).toBe(0);
    expect(fix.stdout).toMatch(/brought back in line: changed 1 of \d+ steps: persist the mount in/);
    expect(readFileSync(fstab, 'utf8')).toBe(`# local\n${original}`);
    const dry3 = runCli(cli, ['--json', 'init', '--answers', answers, '--dry-run']);
    expect(dry3.json.wouldChange).toBe(0);
  });
});
