// verify separates "the snapshot is bad" from "the restore test could not run here": a clone server that
// cannot get its private directory (a read-only $TMPDIR) is not a verdict on the snapshot — exit 1 with
// "could not run here", never "did not pass its restore test"; the same snapshot then verifies.
import { describe, expect, test } from 'vitest';
import { chmod, mkdir, readdir } from 'node:fs/promises';
import { skipReason } from '../helpers/env.js';
import { sh } from '../helpers/host.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';
import { cli, cryptWithServer } from '../helpers/snap.js';

const scratches = scratchSuite();
let scratch: Scratch | undefined;

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');

function useTmp(s: Scratch, dir: string): void {
  const old = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  s.defer(() => {
    if (old === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = old;
  });
}

describe.skipIf(skip)(`verify that cannot run here ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('a read-only $TMPDIR: "could not run here", the snapshot not blamed; with a usable one it verifies', async () => {
    scratch = await scratches.scratch();
    const { fx } = await cryptWithServer(scratch, 15);
    const snap = await cli(fx.root, ['--json', 'snapshot']);
    expect(snap.code, snap.stderr).toBe(0);
    const name = snap.json.snapshot.name as string;

    const ro = scratch.path('ro-tmp');
    await mkdir(ro);
    sh(['mount', '-t', 'tmpfs', '-o', 'ro,size=1M', 'tmpfs', ro]);
    scratch.defer(() => void sh(['umount', ro]));
    useTmp(scratch, ro);
    const r = await cli(fx.root, ['--json', 'verify', name]);
    expect(r.code).toBe(1);
    expect(r.json.verdict).toBe('could-not-run');
    expect(r.json.couldNotRun.kind).toBe('read-only');
    expect(r.json.checks.some((c: { ok: boolean | null }) => c.ok === false)).toBe(false);
    const human = await cli(fx.root, ['verify', name]);
    expect(human.stdout).toMatch(/COULD NOT RUN HERE/);
    expect(human.stdout).toMatch(/says nothing about the snapshot/);
    expect(human.stdout).not.toMatch(/did not pass its restore test/);
    expect(human.stderr).not.toMatch(/\n\s+at /);
    expect((await readdir(fx.root)).filter((n) => n.startsWith('.staging-'))).toEqual([]);

    const tmp = scratch.path('tmp');
    await mkdir(tmp);
    await chmod(tmp, 0o755);
    process.env.TMPDIR = tmp;
    const ok = await cli(fx.root, ['--json', 'verify', name]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.json.ok).toBe(true);
  });
});
