// repair asks before destructive steps at a terminal (a real pseudo-terminal through tmux): declining
// (the default) changes nothing and exits 3; consenting heals. And a crypt also mounted elsewhere is
// reported for a person to fix, not unmounted behind their back.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { fingerprint, initCrypt, problems } from '../helpers/doctor.js';
import { skipReason } from '../helpers/env.js';
import { sh } from '../helpers/host.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite } from '../helpers/suite.js';

const skip = skipReason('root', 'btrfs', 'loop', 'tmux');

/** Runs argv in a detached tmux session; returns a handle to read the screen, type, and wait for the exit code. */
function inTerminal(scratch: Scratch, name: string, argv: string[]) {
  const session = `lyd${path.basename(scratch.dir).replace(/[^A-Za-z0-9]/g, '')}${name}`;
  // Outside the scratch dir, whose fingerprint the test compares.
  const exitFile = path.join(os.tmpdir(), `${session}.exit`);
  scratch.defer(() => rmSync(exitFile, { force: true }));
  // tmux runs the command through a shell: every argument is single-quoted (test paths hold no quotes).
  const cmd = `${argv.map((a) => `'${a}'`).join(' ')}; echo $? > '${exitFile}'`;
  execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '200', '-y', '50', cmd]);
  scratch.defer(() => {
    try {
      execFileSync('tmux', ['kill-session', '-t', session], { stdio: 'ignore' });
    } catch {
      /* already ended */
    }
  });
  return {
    screen: () => execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' }),
    keys: (...keys: string[]) => execFileSync('tmux', ['send-keys', '-t', session, ...keys]),
    async waitFor(re: RegExp): Promise<void> {
      for (let i = 0; i < 300 && !re.test(this.screen()); i++) await sleep(100);
      expect(this.screen()).toMatch(re);
    },
    async exitCode(): Promise<number> {
      for (let i = 0; i < 300 && !existsSync(exitFile); i++) await sleep(100);
      return Number(readFileSync(exitFile, 'utf8').trim());
    },
  };
}

describe.skipIf(skip)(`repair consent and manual findings ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();
  let scratch: Scratch;

  it('at a terminal: declining changes nothing (exit 3), consenting deletes the stray subvolume', async () => {
    scratch = await suite.scratch();
    const c = await initCrypt(scratch, suite.bundle);
    const stray = path.join(c.crypt, '.staging-stray');
    sh(['btrfs', 'subvolume', 'create', stray]);
    const before = fingerprint(scratch.dir);

    const no = inTerminal(scratch, 'no', ['node', suite.bundle, '--crypt', c.crypt, 'repair']);
    await no.waitFor(/Go ahead with this step\?/);
    expect(no.screen()).toMatch(/delete stray staging subvolume \.staging-stray/);
    no.keys('Enter'); // the default is No
    expect(await no.exitCode()).toBe(3);
    expect(fingerprint(scratch.dir)).toBe(before);

    const yes = inTerminal(scratch, 'yes', ['node', suite.bundle, '--crypt', c.crypt, 'repair']);
    await yes.waitFor(/Go ahead with this step\?/);
    yes.keys('y');
    yes.keys('Enter');
    expect(await yes.exitCode()).toBe(0);
    expect(existsSync(stray)).toBe(false);
    expect(c.cli('doctor').code).toBe(0);
  });

  it('the top level also mounted elsewhere: doctor says so, repair leaves it to a person', async () => {
    scratch = await suite.scratch();
    const c = await initCrypt(scratch, suite.bundle);
    const other = scratch.path('elsewhere');
    mkdirSync(other);
    const dev = sh(['findmnt', '-n', '-o', 'SOURCE', '--mountpoint', c.crypt]).trim();
    sh(['mount', '-t', 'btrfs', dev, other]);
    const doctor = c.cli('doctor', '--json');
    expect(doctor.code).toBe(1);
    expect(problems(doctor)).toEqual(['mount.twice']);
    expect(doctor.json.checks.find((k: { id: string }) => k.id === 'mount.twice').fix.manual).toContain(other);
    const repair = c.cli('repair', '--yes');
    expect(repair.code).toBe(1);
    expect(sh(['findmnt', '-n', '-o', 'TARGET', '--mountpoint', other]).trim()).toBe(other);
    // A bind mount of a subvolume (e.g. PGDATA into a container) is deliberate, not a second mount.
    sh(['umount', other]);
    sh(['mount', '--bind', path.join(c.crypt, 'active'), other]);
    expect(c.cli('doctor').code).toBe(0);
  });
});
