// The interactive installer in a real pseudo-terminal (tmux): the prompts appear, answering them gives
// the same plan as the equivalent answers file, --write-answers replays to the same result, and Ctrl-C at
// any prompt changes nothing. Host paths the wizard does not ask about (fstab, unit dir, bin dir) come
// from a partial answers file given with --defaults, pointing into the scratch dir.
import { existsSync, readdirSync, readFileSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { makeUser } from '../helpers/host.js';
import { fstypeAt, runCli } from '../helpers/init.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite } from '../helpers/suite.js';
import { openTerminal, plainTerminalEnv, type Terminal } from '../helpers/tmux.js';
import { proposeImageSize } from '../../src/install/propose.js';
import { hostFs } from '../helpers/scenes.js';

const skip = skipReason('root', 'btrfs', 'loop', 'tmux');

interface Setup {
  host: string;
  crypt: string;
  image: string;
  defaults: string;
  /** Every path init could create. */
  created: () => string[];
}

async function setup(scratch: Scratch): Promise<Setup> {
  const host = await hostFs(scratch, 'ext4', 512);
  const crypt = path.join(host, 'crypt');
  const image = path.join(host, 'img/crypt.img');
  const defaults = scratch.path('defaults.yaml');
  writeFileSync(
    defaults,
    stringify({
      version: 1,
      loopback: { image, size: '256M' },
      persist: { fstab: scratch.path('etc/fstab'), unitDir: scratch.path('etc/systemd/system') },
      install: { binDir: scratch.path('bin') },
    }),
  );
  const created = () => [
    ...readdirSync(host).filter((n) => n !== 'lost+found').map((n) => path.join(host, n)),
    ...['etc', 'bin'].map((n) => scratch.path(n)).filter((p) => existsSync(p)),
  ];
  return { host, crypt, image, defaults, created };
}

/** Environment of the terminal: no crypt or sudo user leaking in from the test runner. */

interface Prompt {
  /** The question, as the active prompt shows it (◆). */
  question: RegExp;
  answer: (t: Terminal) => Promise<void> | void;
}

const enter = (t: Terminal) => t.keys('Enter');
/** A yes/no question: the letter chooses, Enter answers. */
const yes = (t: Terminal) => (t.type('y'), t.keys('Enter'));
const no = (t: Terminal) => (t.type('n'), t.keys('Enter'));

/** The questions of a loopback install, answered; the last one ("Apply?") only without --dry-run. */
function loopbackPrompts(s: Setup, opts: { size: string; via: 'systemd mount unit' | 'line in fstab' }): Prompt[] {
  return [
    { question: /◆ {2}Where should the crypt live\?/, answer: (t) => (t.type(s.crypt), t.keys('Enter')) },
    { question: /◆ {2}How should the crypt get its Btrfs filesystem\?/, answer: (t) => t.choose('loopback image') },
    { question: /◆ {2}Image file/, answer: enter },
    { question: /◆ {2}Image size/, answer: (t) => (t.type(opts.size), t.keys('Enter')) },
    { question: /◆ {2}How should the mount be made permanent\?/, answer: (t) => t.choose(opts.via) },
    { question: /◆ {2}Will the crypt hold a PostgreSQL data directory/, answer: yes },
    { question: /◆ {2}PostgreSQL OS user/, answer: enter },
    { question: /◆ {2}How should a rollback stop and start PostgreSQL\?/, answer: (t) => t.choose('pg_ctl') },
    { question: /◆ {2}Connect through \/var\/run\/postgresql, port 5432/, answer: yes },
    { question: /◆ {2}Keep the live WAL \(pg_wal\) on the host's own filesystem\?/, answer: enter },
  ];
}
const APPLY: Prompt = { question: /◆ {2}Apply this plan\?/, answer: (t) => t.choose('Apply') };

async function answerAll(t: Terminal, prompts: Prompt[]): Promise<void> {
  for (const p of prompts) {
    await t.waitFor(p.question);
    await p.answer(t);
  }
}

describe.skipIf(skip)(`interactive init in a terminal ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();
  let scratch: Scratch;

  it('the prompts appear, and the answers make the same plan as the equivalent answers file', async () => {
    scratch = await suite.scratch();
    const s = await setup(scratch);
    const written = scratch.path('written.yaml');
    const t = openTerminal(scratch, ['node', suite.bundle, 'init', '--defaults', s.defaults, '--dry-run', '--write-answers', written], plainTerminalEnv());
    const detected = await t.waitFor(/◆ {2}Where should the crypt live\?/);
    expect(detected).toMatch(/Detected/);
    expect(detected).toMatch(/target user: root/);
    expect(detected).toMatch(/systemd: (running|not running)/);
    await answerAll(t, loopbackPrompts(s, { size: '300M', via: 'systemd mount unit' }));
    expect(await t.exitCode()).toBe(0);
    const shown = t.history();
    expect(shown).toMatch(/Proposed: \w+, because/);
    expect(shown).toContain('(dry run: nothing was changed)');
    expect(s.created()).toEqual([]);

    // The equivalent answers file, written by hand.
    const equivalent = scratch.path('equivalent.yaml');
    writeFileSync(
      equivalent,
      stringify({
        version: 1,
        crypt: { path: s.crypt },
        method: 'loopback',
        loopback: { image: s.image, size: '300M' },
        persist: { via: 'systemd', fstab: scratch.path('etc/fstab'), unitDir: scratch.path('etc/systemd/system') },
        install: { binDir: scratch.path('bin') },
      }),
    );
    const fromFile = runCli(suite.bundle, ['--json', 'init', '--answers', equivalent, '--dry-run']);
    const fromWizard = runCli(suite.bundle, ['--json', 'init', '--answers', written, '--dry-run']);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(fromWizard.code, fromWizard.stderr).toBe(0);
    // Each detection picks a fresh UUID for a new filesystem (mkfs.btrfs -U): the one difference allowed.
    const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
    const normal = (plan: unknown) => JSON.parse(JSON.stringify(plan).replace(uuid, 'UUID'));
    expect(normal(fromWizard.json.plan)).toEqual(normal(fromFile.json.plan));
    // And the plan the wizard showed is that plan: its head line and every step.
    const human = runCli(suite.bundle, ['init', '--answers', equivalent, '--dry-run']).stdout;
    const flat = shown.replace(/\s+/g, ' ');
    for (const line of human.split('\n').filter((l) => /^(Plan: |\d+\. )/.test(l))) expect(flat).toContain(line.replace(/\s+/g, ' ').trim());
    expect(statSync(written).mode & 0o777).toBe(0o600);
    expect(s.created()).toEqual([]);
  });

  it('applies with progress and a summary; --write-answers replays to the same result', async () => {
    scratch = await suite.scratch();
    const s = await setup(scratch);
    const written = scratch.path('written.yaml');
    const t = openTerminal(scratch, ['node', suite.bundle, 'init', '--defaults', s.defaults, '--write-answers', written], plainTerminalEnv());
    await answerAll(t, [...loopbackPrompts(s, { size: '256M', via: 'line in fstab' }), APPLY]);
    expect(await t.exitCode()).toBe(0);
    const shown = t.history();
    expect(shown).toMatch(/crypt .* for root, method loopback, \d+ steps/);
    expect(shown).toMatch(/\[1\/\d+\] /);
    expect(shown).toContain(`crypt ready at ${s.crypt}`);
    expect(shown).toMatch(/Next steps/);
    expect(fstypeAt(s.crypt)).toBe('btrfs');
    expect(readFileSync(scratch.path('etc/fstab'), 'utf8')).toContain(s.crypt);
    expect(existsSync(path.join(s.crypt, 'active/postgres'))).toBe(true);

    // Replaying the written answers unattended finds everything as asked.
    const replay = runCli(suite.bundle, ['--json', 'init', '--answers', written, '--yes']);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.json.changed).toBe(0);
  });

  it('Ctrl-C at any prompt exits 130 and changes nothing', async () => {
    scratch = await suite.scratch();
    const s = await setup(scratch);
    const prompts = [...loopbackPrompts(s, { size: '256M', via: 'line in fstab' }), APPLY];
    for (let k = 0; k < prompts.length; k++) {
      const t = openTerminal(scratch, ['node', suite.bundle, 'init', '--defaults', s.defaults, '--write-answers', scratch.path('w.yaml')], plainTerminalEnv());
      await answerAll(t, prompts.slice(0, k));
      await t.waitFor(prompts[k]!.question);
      t.keys('C-c');
      expect(await t.exitCode(), `Ctrl-C at ${prompts[k]!.question}`).toBe(130);
      expect(t.history()).toContain('cancelled, nothing was changed');
      expect(s.created(), `Ctrl-C at ${prompts[k]!.question}`).toEqual([]);
      expect(existsSync(scratch.path('w.yaml'))).toBe(false);
    }
  });

  it('declining the plan (answering No) exits 130 and changes nothing', async () => {
    scratch = await suite.scratch();
    const s = await setup(scratch);
    const t = openTerminal(scratch, ['node', suite.bundle, 'init', '--defaults', s.defaults], plainTerminalEnv());
    await answerAll(t, loopbackPrompts(s, { size: '256M', via: 'line in fstab' }));
    await t.waitFor(APPLY.question);
    await t.choose('Cancel');
    expect(await t.exitCode()).toBe(130);
    expect(s.created()).toEqual([]);
  });

  it('--answers in a terminal without --yes previews the plan and asks; a re-run through the wizard has nothing to do', async () => {
    scratch = await suite.scratch();
    const s = await setup(scratch);
    const answers = scratch.path('answers.yaml');
    writeFileSync(
      answers,
      stringify({ ...(await import('yaml')).parse(readFileSync(s.defaults, 'utf8')), crypt: { path: s.crypt }, method: 'loopback', persist: { via: 'fstab', fstab: scratch.path('etc/fstab'), unitDir: scratch.path('etc/systemd/system') } }),
    );
    let t = openTerminal(scratch, ['node', suite.bundle, 'init', '--answers', answers], plainTerminalEnv());
    const preview = await t.waitFor(/◆ {2}Apply this plan\?/);
    expect(preview).not.toMatch(/Where should the crypt live/);
    expect(t.history()).toMatch(new RegExp(`crypt ${s.crypt} for root, method loopback`));
    await t.choose('Apply');
    expect(await t.exitCode()).toBe(0);
    expect(fstypeAt(s.crypt)).toBe('btrfs');

    t = openTerminal(scratch, ['node', suite.bundle, 'init', '--defaults', s.defaults], plainTerminalEnv());
    // The registered crypt is the proposed path; its questions come pre-filled (issue 24): Enter keeps each.
    expect(await t.waitFor(/◆ {2}Where should the crypt live\?/)).toContain(s.crypt);
    t.keys('Enter');
    for (const q of [/Image size/, /made permanent/, /PostgreSQL data directory/, /PostgreSQL OS user/, /stop and start PostgreSQL/, /Connect through/, /Keep the live WAL/]) {
      await t.waitFor(new RegExp(`◆ {2}[^\\n]*${q.source}`));
      t.keys('Enter');
    }
    await t.waitFor(/◆ {2}Apply this plan\?/);
    expect(t.history()).toMatch(/is the registered crypt "root" \(method loopback/);
    expect(t.history()).toMatch(/nothing to change/);
    expect(t.history()).not.toMatch(/How should the crypt get its Btrfs filesystem/);
    await t.choose('Apply');
    expect(await t.exitCode()).toBe(0);
    expect(t.history()).toContain(`nothing to do: the crypt at ${s.crypt} is already set up as asked`);
  });

  it('without root: stops before any question (exit 2); --dry-run still asks', async () => {
    scratch = await suite.scratch();
    const user = makeUser(scratch);
    const asUser = (args: string[]) => ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', process.execPath, suite.bundle, ...args];
    const env = { PATH: process.env.PATH, HOME: user.home, LANG: 'C.UTF-8' };
    let t = openTerminal(scratch, asUser(['init']), env);
    expect(await t.exitCode()).toBe(2);
    expect(t.history()).toMatch(/must run as root/);
    expect(t.history()).not.toMatch(/Where should the crypt live/);
    t = openTerminal(scratch, asUser(['init', '--dry-run']), env);
    await t.waitFor(new RegExp(`◆ {2}Where should the crypt live\\? \\(for ${user.name}\\)`));
    t.keys('C-c');
    expect(await t.exitCode()).toBe(130);
    expect(existsSync(`${user.home}/.local`)).toBe(false);
  });

  it('checks at the question: /etc refused, a size that does not fit asks the size again, n+Enter never answers the next question, the preview fits on a screen', async () => {
    scratch = await suite.scratch();
    const s = await setup(scratch);
    // No size in the defaults: the proposed one must fit the free space of the 512M host.
    const defaults = scratch.path('no-size.yaml');
    writeFileSync(defaults, readFileSync(s.defaults, 'utf8').replace(/\n\s*size: 256M/, ''));
    const proposed = proposeImageSize(statfsSync(s.host).bavail * statfsSync(s.host).bsize);
    const t = openTerminal(scratch, ['node', suite.bundle, 'init', '--defaults', defaults], plainTerminalEnv());
    await t.waitFor(/◆ {2}Where should the crypt live\?/);
    t.type('/etc');
    t.keys('Enter');
    await t.waitFor(/\/etc is a system directory/);
    t.keys('C-u');
    t.type(s.crypt);
    t.keys('Enter');
    await t.waitFor(/◆ {2}How should the crypt get its Btrfs filesystem\?/);
    await t.choose('loopback image');
    await t.waitFor(/◆ {2}Image file/);
    t.keys('Enter');
    const sizeQ = await t.waitFor(/◆ {2}Image size/);
    expect(sizeQ).toMatch(new RegExp(`◆ {2}Image size[^◆]*free on ${s.host}\\)\\n[^\\n]*${proposed}`));
    expect(proposed).toMatch(/^\d+M$/);
    t.type('2G');
    t.keys('Enter');
    const refused = await t.waitFor(/2G does not fit/);
    // Still the size question: the crypt path and the method were not asked again.
    expect(refused).toMatch(/▲ {2}Image size/);
    t.keys('C-u');
    t.type('256M');
    t.keys('Enter');
    await t.waitFor(/◆ {2}How should the mount be made permanent\?/);
    await t.choose('line in fstab');
    await t.waitFor(/◆ {2}Will the crypt hold a PostgreSQL data directory/);
    yes(t);
    await t.waitFor(/◆ {2}PostgreSQL OS user/);
    t.keys('Enter');
    await t.waitFor(/◆ {2}How should a rollback stop and start PostgreSQL\?/);
    await t.choose('pg_ctl');
    await t.waitFor(/◆ {2}Connect through/);
    // `n` then Enter: the Enter answers this question, not the next one (which would take its default).
    no(t);
    await t.waitFor(/◆ {2}Socket directory or host/);
    t.type('run/pg');
    t.keys('Enter');
    await t.waitFor(/A socket directory must be an absolute path/);
    t.keys('C-u');
    t.type('/run/postgresql');
    t.keys('Enter');
    await t.waitFor(/◆ {2}Port/);
    t.keys('Enter');
    await t.waitFor(/◆ {2}Role/);
    t.keys('Enter');
    await t.waitFor(/◆ {2}Database/);
    t.keys('Enter');
    await t.waitFor(/◆ {2}Keep the live WAL/);
    t.keys('Enter');
    const preview = await t.waitFor(/◆ {2}Apply this plan\?[^◆]*Cancel/);
    const lines = preview.split('\n');
    const from = lines.findIndex((l) => /◇ {2}Plan/.test(l));
    const to = lines.length - 1 - [...lines].reverse().findIndex((l) => /Cancel/.test(l));
    expect(from).toBeGreaterThanOrEqual(0);
    expect(to - from + 1).toBeLessThanOrEqual(40);
    expect(preview).toMatch(/Formats:/);
    expect(preview).not.toMatch(/\$ mkfs\.btrfs/);
    const history = t.history();
    expect(history.match(/◇ {2}Where should the crypt live\?/g)).toHaveLength(1);
    expect(history.match(/◇ {2}How should the crypt get its Btrfs filesystem\?/g)).toHaveLength(1);
    // The full plan on request, then the question again; Cancel changes nothing.
    await t.choose('Show the full plan');
    await t.waitFor(/\d+\. install the runtime command[\s\S]*◆ {2}Apply this plan\?/);
    expect(t.history()).toMatch(/\$ mkfs\.btrfs/);
    await t.choose('Cancel');
    expect(await t.exitCode()).toBe(130);
    expect(s.created()).toEqual([]);
  });

  it('bad --defaults: exit 2 with file:line:col before any question', async () => {
    scratch = await suite.scratch();
    const bad = scratch.path('defaults.yaml');
    writeFileSync(bad, 'version: 1\nloopback: { size: twenty }\n');
    const t = openTerminal(scratch, ['node', suite.bundle, 'init', '--defaults', bad], plainTerminalEnv());
    expect(await t.exitCode()).toBe(2);
    expect(t.history()).toContain(`${bad}:2:19: loopback.size: expected a size like 20G, got "twenty"`);
    expect(t.history()).not.toMatch(/Where should the crypt live/);
  });

  it('on a Btrfs host: native is proposed with its reason, and no image or persistence is asked', async () => {
    scratch = await suite.scratch();
    const host = await hostFs(scratch, 'btrfs', 300);
    const crypt = path.join(host, 'crypt');
    const defaults = scratch.path('defaults.yaml');
    writeFileSync(defaults, stringify({ version: 1, install: { binDir: scratch.path('bin') } }));
    const t = openTerminal(scratch, ['node', suite.bundle, 'init', '--defaults', defaults, '--crypt', crypt], plainTerminalEnv());
    // --crypt named the path: not asked.
    const s = await t.waitFor(/◆ {2}How should the crypt get its Btrfs filesystem\?/);
    expect(s).not.toMatch(/Where should the crypt live/);
    expect(s).toMatch(new RegExp(`Proposed: native, because ${host} is on Btrfs`));
    expect(s).toMatch(/● native/);
    t.keys('Enter');
    await t.waitFor(/◆ {2}Will the crypt hold a PostgreSQL data directory/);
    no(t);
    await t.waitFor(/◆ {2}Apply this plan\?/);
    await t.choose('Apply');
    expect(await t.exitCode()).toBe(0);
    const shown = t.history();
    expect(shown).not.toMatch(/Image file|made permanent/);
    expect(shown).toContain(`crypt ready at ${crypt}`);
    expect(existsSync(path.join(crypt, 'active'))).toBe(true);
    expect(existsSync(path.join(crypt, 'active/postgres'))).toBe(false);
  });
});
