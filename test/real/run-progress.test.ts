// `run` is never silent while it retries its health checks (issue 24): off a terminal one line per failed
// attempt — what failed, why, the time left —, at a terminal a spinner with the same, replaced by the outcome.
import { existsSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { makeCryptFixture } from '../helpers/crypt-fixture.js';
import { skipReason } from '../helpers/env.js';
import { cliSuite } from '../helpers/suite.js';
import { cliChild } from '../helpers/snap.js';
import { openTerminal } from '../helpers/tmux.js';

const skip = skipReason('root', 'btrfs', 'loop', 'tmux');

describe.skipIf(skip)(`run's health retries show progress ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('off a terminal: a line per failed attempt with the check, its failure and the time left', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    const r = await cliChild(suite.bundle, fx.root, ['run', '--health-timeout', '4s', '--on-failure', 'keep', '--check', 'sh -c "echo not-ready-yet; exit 3"', '--', 'true']);
    expect(r.code, r.stderr).toBe(5);
    const attempts = r.stderr.split('\n').filter((l) => /health: attempt \d+ failed/.test(l));
    expect(attempts.length, r.stderr).toBeGreaterThanOrEqual(2);
    expect(attempts[0]).toMatch(/^ {2}health: attempt 1 failed: --check sh -c echo not-ready-yet; exit 3: exit 3: not-ready-yet; retrying, \d+ s left$/);
    // What is checked is named before the first attempt's result, and the end says how it ended.
    expect(r.stderr).toMatch(/^health: --check sh -c .* …$/m);
    expect(r.stderr).toMatch(/FAILED: .*\(\d+ attempts\)|^ {2}--check sh -c .*\(\d+ attempts\)$/m);
  }, 120_000);

  test('at a terminal: the spinner says what is retried, the last failure and the time left, then the outcome', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    const ready = scratch.path('ready');
    const check = scratch.path('check.sh');
    writeFileSync(check, `test -f ${ready} || { echo "no ${ready} yet"; exit 1; }\n`);
    const t = openTerminal(scratch, ['node', suite.bundle, '--crypt', fx.root, 'run', '--health-timeout', '60s', '--check', `sh ${check}`, '--', 'true']);
    const screen = await t.waitFor(/health: attempt 2 failed: --check sh \S+check\.sh: exit 1: no \S+ready yet; retrying, \d+ s left/, 30_000);
    expect(screen).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] health: attempt/);
    writeFileSync(ready, '');
    expect(await t.exitCode()).toBe(0);
    expect(t.history()).toMatch(/✓ health: .*: healthy \(attempt \d+\)/);
    expect(existsSync(ready)).toBe(true);
  }, 120_000);
});
