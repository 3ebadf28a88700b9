// A reader that goes away (issue 24): `lychd-crypt list | head -1`, `snapshot | false`. EPIPE on stdout or
// stderr ends quietly once the work is done — no stack trace, the command's own exit status — and never
// cuts an operation off midway: the snapshot taken with its output going nowhere is complete.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { cliSuite } from '../helpers/suite.js';
import { makeCryptFixture } from '../helpers/crypt-fixture.js';
import { cli } from '../helpers/snap.js';

const skip = skipReason('root', 'btrfs', 'loop');

/** `CLI args | reader` in bash: the CLI's exit status and its stderr (kept in a variable, not the pipe). */
function piped(bundle: string, root: string, args: string[], reader: string, stderrToo = false): { status: number; stderr: string } {
  const q = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;
  const cmd = [process.execPath, bundle, '--crypt', root, ...args].map(q).join(' ');
  // `true`/`false` exit at once: the CLI writes into a pipe nobody reads any more (EPIPE, deterministic).
  const script = stderrToo
    ? `${cmd} 2>&1 | ${reader}; echo "status=\${PIPESTATUS[0]}"`
    : `exec 3>&1; err=$( { ${cmd} | ${reader}; echo "status=\${PIPESTATUS[0]}" >&3; } 2>&1 ); printf '%s' "$err" >&2`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: process.env });
  const status = Number(/status=(\d+)/.exec(r.stdout)?.[1] ?? -1);
  return { status, stderr: r.stderr };
}

describe.skipIf(skip)(`output to a reader that goes away ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  it('list | head -1, list | true, --json list | true: exit 0, no trace', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    for (const label of ['a', 'b', 'c']) expect((await cli(fx.root, ['snapshot', '--label', label])).code).toBe(0);
    for (const [args, reader] of [
      [['list'], 'head -1'],
      [['list'], 'true'],
      [['--json', 'list'], 'true'],
      [['--help'], 'true'],
    ] as const) {
      const r = piped(suite.bundle, fx.root, [...args], reader);
      expect(r.stderr, `${args.join(' ')} | ${reader}`).not.toMatch(/EPIPE|Error:|at .*\.js:\d+/);
      expect(r.status, `${args.join(' ')} | ${reader}: ${r.stderr}`).toBe(0);
    }
  });

  it('snapshot | false and snapshot 2>&1 | false: the snapshot is taken whole, its exit status 0, no trace', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    const one = piped(suite.bundle, fx.root, ['snapshot', '--label', 'piped-out'], 'false');
    expect(one.stderr).not.toMatch(/EPIPE|Error:/);
    expect(one.status, one.stderr).toBe(0);
    // Progress and messages on stderr go into the closed pipe too.
    const both = piped(suite.bundle, fx.root, ['snapshot', '--label', 'piped-both'], 'false', true);
    expect(both.status).toBe(0);
    const list = await cli(fx.root, ['--json', 'list']);
    expect(list.json.snapshots.map((s: { label: string }) => s.label).sort()).toEqual(['piped-both', 'piped-out']);
    // Complete: metadata written, nothing for doctor or repair to finish.
    const doctor = await cli(fx.root, ['--json', 'doctor']);
    expect(doctor.json.checks.filter((c: { status: string }) => c.status === 'fail').map((c: { id: string }) => c.id)).toEqual([]);
  });
});
