// Bad answers through the real CLI: exit 2, every problem on stderr at file:line:col, and nothing
// created — no crypt directory, no image, no fstab, no unit, no runtime command.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { runCli } from '../helpers/init.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite } from '../helpers/suite.js';

const skip = skipReason('root');

describe.skipIf(skip)(`init with bad answers ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();
  let scratch: Scratch;

  /** Every host path the answers could name, inside the scratch dir. */
  function paths(s: Scratch) {
    return {
      crypt: s.path('crypt'),
      image: s.path('images/crypt.img'),
      fstab: s.path('etc/fstab'),
      unitDir: s.path('etc/systemd/system'),
      binDir: s.path('bin'),
    };
  }

  /** An answers file whose valid keys point into the scratch dir, followed by `bad` lines. */
  function answersFile(s: Scratch, bad: string[], name = 'answers.yaml'): string {
    const p = paths(s);
    const file = s.path(name);
    writeFileSync(
      file,
      [
        'version: 1',
        `crypt: { path: ${p.crypt} }`,
        'method: loopback',
        `persist: { via: fstab, fstab: ${p.fstab}, unitDir: ${p.unitDir} }`,
        `install: { binDir: ${p.binDir} }`,
        ...bad,
        '',
      ].join('\n'),
    );
    return file;
  }

  function expectNothingCreated(s: Scratch): void {
    for (const p of Object.values(paths(s))) expect(existsSync(p), `${p} must not exist`).toBe(false);
    // Only the answers files themselves.
    expect(readdirSync(s.dir).every((n) => n.endsWith('.yaml'))).toBe(true);
  }

  it('several bad answers: exit 2, all of them on stderr with file:line:col, nothing created', async () => {
    scratch = await suite.scratch();
    const file = answersFile(scratch, [
      `loopback: { image: ${paths(scratch).image}, size: twenty }`,
      'filesystem: { label: 0755, mountOptoins: [noatime] }',
      'postgres: { enabled: no }',
    ]);
    const r = runCli(suite.bundle, ['init', '--answers', file, '--yes']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    const imageCol = 'loopback: { image: '.length + paths(scratch).image.length + ', size: '.length + 1;
    expect(r.stderr).toContain(`${file}:6:${imageCol}: loopback.size: expected a size like 20G, got "twenty"`);
    expect(r.stderr).toContain(`${file}:7:22: filesystem.label: expected a label (text), got number 755 (YAML 1.2 reads 0755 as the decimal number 755`);
    expect(r.stderr).toContain(`${file}:7:28: filesystem.mountOptoins: unknown key "mountOptoins"`);
    expect(r.stderr).toContain(`${file}:8:22: postgres.enabled: expected true or false, got "no" (YAML 1.2 reads no as the string "no"; write true or false)`);
    expect(r.stderr).toMatch(/nothing was changed/);
    expectNothingCreated(scratch);
  });

  it('--json: one JSON document with every issue located, exit 2, nothing created', async () => {
    scratch = await suite.scratch();
    const file = answersFile(scratch, ['loopback: { image: crypt.img }', 'methd: native']);
    const r = runCli(suite.bundle, ['--json', 'init', '--answers', file, '--yes']);
    expect(r.code).toBe(2);
    expect(r.json.ok).toBe(false);
    expect(r.json.error.exit).toBe(2);
    expect(r.json.error.issues).toEqual([
      { file, line: 6, col: 20, path: 'loopback.image', message: 'expected an absolute path (starting with /), got "crypt.img"' },
      { file, line: 7, col: 1, path: 'methd', message: 'unknown key "methd": did you mean "method"?' },
    ]);
    expectNothingCreated(scratch);
  });

  it('wrong version, duplicate key, YAML syntax error: exit 2 each, nothing created', async () => {
    scratch = await suite.scratch();
    const good = readFileSync(answersFile(scratch, [], 'good.yaml'), 'utf8');
    const cases: [string, RegExp][] = [
      [good.replace('version: 1', 'version: 2'), /:1:10: version: expected version: 1, got number 2/],
      [`${good}method: native\n`, /:6:1: method: duplicate key: each key may appear once/],
      [`${good}loopback: { size: [20G }\n`, /:6:19: loopback\.size: this \[ is not closed: end it with \] on the same line/],
    ];
    for (const [i, [text, expected]] of cases.entries()) {
      const file = scratch.path(`case${i}.yaml`);
      writeFileSync(file, text);
      const r = runCli(suite.bundle, ['init', '--answers', file, '--yes']);
      expect(r.code, `case ${i}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(expected);
      expect(r.stderr).toContain(file);
    }
    expectNothingCreated(scratch);
  });

  it('a missing answers file: one line, exit 2', async () => {
    scratch = await suite.scratch();
    const r = runCli(suite.bundle, ['init', '--answers', scratch.path('nope.yaml'), '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`lychd-crypt: answers file ${scratch.path('nope.yaml')} does not exist; nothing was changed`);
    expect(r.stderr).not.toMatch(/ENOENT/);
    expectNothingCreated(scratch);
  });

  it('near-miss keys, a bad indentation and a second mistake: all reported with a caret, exit 2', async () => {
    scratch = await suite.scratch();
    const file = answersFile(scratch, ['loopback:', '  sise: 20G', 'postgres:', '  osUser: postgres', '   bin: /usr/lib/postgresql/15/bin', 'methd: native']);
    const r = runCli(suite.bundle, ['init', '--answers', file, '--yes']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${file}:7:3: loopback.sise: unknown key "sise": did you mean "size"?\n  7 |   sise: 20G\n    |   ^`);
    expect(r.stderr).toContain(`${file}:10:4: postgres.osUser: "bin" is indented more than "osUser" on line 9 (3 spaces, not 2)`);
    expect(r.stderr).toContain(`${file}:11:1: methd: unknown key "methd": did you mean "method"?`);
    expectNothingCreated(scratch);
  });

  it('checks against the host keep file:line:col: no such OS user, postgres.bin without pg_ctl; exit 2, nothing created', async () => {
    scratch = await suite.scratch();
    const user = answersFile(scratch, ['postgres:', '  osUser: lychd-no-such-user'], 'user.yaml');
    const r = runCli(suite.bundle, ['init', '--answers', user, '--yes']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${user}:7:11: postgres.osUser: no such user: lychd-no-such-user\n  7 |   osUser: lychd-no-such-user\n    |           ^`);
    const bin = answersFile(scratch, ['postgres:', `  bin: ${scratch.path('pgbin')}`], 'bin.yaml');
    const b = runCli(suite.bundle, ['init', '--answers', bin, '--yes']);
    expect(b.code, b.stderr).toBe(2);
    expect(b.stderr).toContain(`${bin}:7:8: postgres.bin: ${scratch.path('pgbin')} does not exist`);
    expectNothingCreated(scratch);
  });

  it('--defaults is for the interactive installer: without a terminal, exit 2', async () => {
    scratch = await suite.scratch();
    const file = answersFile(scratch, []);
    const r = runCli(suite.bundle, ['init', '--defaults', file, '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--defaults pre-fills the interactive questions; it needs a terminal/);
    expectNothingCreated(scratch);
  });
});
