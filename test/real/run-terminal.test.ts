// `run` on a real terminal (tmux): COMMAND's process group is the terminal's foreground while it runs — it
// reads the terminal and opens /dev/tty, Ctrl-C reaches it (not lychd-crypt, which stays to roll back) and
// counts as a failure — and the terminal is the caller's again afterwards.
import { writeFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { makeCryptFixture } from '../helpers/crypt-fixture.js';
import { skipReason } from '../helpers/env.js';
import { cliSuite } from '../helpers/suite.js';
import { openTerminal, stopAndContinue } from '../helpers/tmux.js';

const skip = skipReason('root', 'btrfs', 'loop', 'tmux');

describe.skipIf(skip)(`run on a terminal ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();
  test('COMMAND owns the terminal while it runs; Ctrl-C stops it and the change is rolled back; the caller gets the terminal back', async () => {
    const scratch = await suite.scratch();
    const bundle = suite.bundle;
    const fx = await makeCryptFixture(scratch, { postgres: false });
    const typed = path.join(fx.paths.active, 'typed');
    const change = scratch.path('change.sh');
    writeFileSync(change, `printf 'name? '\nread x\necho "$x" > ${typed}\necho tty-ok > /dev/tty\necho ready\nsleep 1000\n`);
    // The caller: a shell that reads the terminal again once lychd-crypt is done.
    const caller = scratch.path('caller.sh');
    writeFileSync(caller, `node ${bundle} --crypt ${fx.root} run --label typed -- sh ${change}\necho "status=$?"\nread y\necho "after $y"\n`);
    const t = openTerminal(scratch, ['sh', caller]);
    await t.waitFor(/name\? /);
    t.type('hi');
    t.keys('Enter');
    await t.waitFor(/ready/);
    expect(t.screen()).toContain('tty-ok');
    await access(typed);
    t.keys('C-c');
    const screen = await t.waitFor(/status=\d+/, 60_000);
    expect(screen).toMatch(/the change FAILED: the command was killed by SIGINT/);
    expect(screen).toMatch(/status=130/);
    await expect(access(typed)).rejects.toThrow();
    t.type('back');
    t.keys('Enter');
    await t.waitFor(/after back/);
    expect(await t.exitCode()).toBe(0);
  }, 180_000);

  test('Ctrl-Z in an interactive shell stops COMMAND and lychd-crypt as one job; fg continues both', async () => {
    const scratch = await suite.scratch();
    const bundle = suite.bundle;
    const fx = await makeCryptFixture(scratch, { postgres: false });
    const t = openTerminal(scratch, ['bash', '--norc', '--noprofile', '-i']);
    await t.waitFor(/bash-[\d.]+#/); // bash's own prompt
    const screen = await stopAndContinue(t, `node ${bundle} --crypt ${fx.root} run -- sh -c 'echo started; sleep 1000; echo never'`);
    expect(screen).toMatch(/status=130/);
    expect(screen).toMatch(/killed by SIGINT/);
  }, 180_000);
});
