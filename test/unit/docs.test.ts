// The man page and the completion scripts are made from the same command tree as --help: every command
// and option appears, the output is deterministic, and the scripts work in real bash and fish (and parse in
// zsh); snapshot names come from the program's own `list --names` (a stub on PATH here), and a hostile
// answer from it (shell words, globs, escapes) is never evaluated or offered.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, programTree } from '../../src/cli/program.js';
import { renderBash, renderFish, renderZsh } from '../../src/cli/docs/completion.js';
import { describeProgram, type ProgramDoc } from '../../src/cli/docs/describe.js';
import { renderMan } from '../../src/cli/docs/man.js';
import { VERSION } from '../../src/base/version.js';
import { REPO, toolSkipReason } from '../helpers/env.js';
import { complete as completeIn, type Shell } from '../helpers/complete.js';
import { renderDocs } from '../../packaging/docs.js';

/** Lines a hostile `list --names` prints: each would run `touch`, match files or break a line if evaluated. */
const HOSTILE = ['$(touch${IFS}pwned)', '`touch pwned2`', 'x;touch pwned3', '*', '20261123T101500Z-*', '--crypt-evil', '$HOME', 'a b', '\u001b]0;t\u0007'];

async function help(argv: string[]): Promise<string> {
  let out = '';
  const io = { stdout: { write: (s: string) => ((out += s), true) } as never, stderr: { write: () => true } as never, stdinIsTTY: false, env: {} };
  await main(argv, io);
  return out;
}

describe('docs from the command tree', () => {
  let doc: ProgramDoc;
  let dir: string;
  let stubDir: string;
  beforeAll(async () => {
    doc = describeProgram(await programTree());
    dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-docs-'));
    // A stand-in for the program: `list --names` of the default crypt, of "other", or an error.
    stubDir = path.join(dir, 'bin');
    mkdirSync(stubDir);
    writeFileSync(
      path.join(stubDir, 'lychd-crypt'),
      [
        '#!/bin/sh',
        'case "$*" in',
        '  "list --names") printf "%s\\n" 20261123T101500Z 20261122T093000Z-pre-upgrade ;;',
        '  "--crypt other list --names") echo 20200101T000000Z-other-crypt ;;',
        // What a crypt's owner could make a broken or replaced program print: every line must stay data.
        `  "--crypt evil list --names") printf "%s\\n" ${HOSTILE.map((h) => `'${h}'`).join(' ')} 20261123T101500Z ;;`,
        '  *) echo "lychd-crypt: no crypt" >&2; exit 2 ;;',
        'esac',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists exactly the commands and options --help shows', async () => {
    const top = await help(['--help']);
    const listed = [...top.split('Commands:')[1]!.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]).filter((n) => n !== 'help');
    expect(doc.commands.map((c) => c.name)).toEqual(listed);
    for (const c of doc.commands) {
      const text = await help([c.name, '--help']);
      for (const o of c.options) expect(text, `${c.name} ${o.long}`).toContain(o.term);
      const flagsInHelp = [...text.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]).filter((f) => f !== '--help');
      expect(c.options.map((o) => o.long), c.name).toEqual(flagsInHelp);
    }
  });

  it('renders the man page deterministically, with every command and option', () => {
    const a = renderMan({ doc, version: VERSION, date: '2026-11-29' });
    expect(renderMan({ doc, version: VERSION, date: '2026-11-29' })).toBe(a);
    expect(a).toMatch(/^\.TH LYCHD-CRYPT 1 2026-11-29 "lychd\\-crypt /m);
    for (const c of doc.commands) {
      expect(a).toContain(`.SS \\fB${c.name}\\fR`);
      for (const o of c.options) expect(a).toContain(`\\fB${o.long.replace(/-/g, '\\-')}\\fR`);
    }
    for (const code of ['0', '1', '2', '3', '4']) expect(a).toContain(`.TP\n\\fB${code}\\fR`);
  });

  it.skipIf(toolSkipReason('man'))('formats without groff warnings', () => {
    const file = path.join(dir, 'lychd-crypt.1');
    writeFileSync(file, renderMan({ doc, version: VERSION, date: '2026-11-29' }));
    const r = spawnSync('man', ['--warnings', '-E', 'UTF-8', '-l', '-Tutf8', '-Z', file], {
      encoding: 'utf8',
      env: { ...process.env, LC_ALL: 'C.UTF-8', MANWIDTH: '80', MANROFFSEQ: '' },
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('the built docs match the changelog and package.json', async () => {
    const files = await renderDocs(readFileSync(path.join(REPO, 'CHANGELOG.md'), 'utf8'));
    expect(files.man).toContain(`"lychd\\-crypt ${VERSION.replace(/-/g, '\\-')}"`);
    expect(files.bash).toBe(renderBash(doc));
    expect(files.zsh).toBe(renderZsh(doc));
    await expect(renderDocs('## 9.9.9 - 2026-01-01\n- x\n')).rejects.toThrow(/9\.9\.9.*package\.json/);
  });

  const completer = (shell: Shell) => (line: string): string[] =>
    completeIn(shell, line, { dir, script: { bash: renderBash, zsh: renderZsh, fish: renderFish }[shell](doc), env: { ...process.env, PATH: `${stubDir}:${process.env.PATH}` } });

  describe.skipIf(toolSkipReason('bash'))('bash completion', () => {
    const complete = completer('bash');

    it('completes snapshot names (and latest/previous) for the commands that take one, for the crypt on the line', () => {
      const names = ['20261123T101500Z', '20261122T093000Z-pre-upgrade'];
      expect(complete('lychd-crypt rollback ')).toEqual(['20261122T093000Z-pre-upgrade', '20261123T101500Z', 'latest', 'previous']);
      expect(complete('lychd-crypt rollback 2026112')).toEqual([...names].sort());
      expect(complete('lychd-crypt delete 20261122T093000Z-pre-upgrade 20261123')).toEqual(['20261123T101500Z']);
      expect(complete('lychd-crypt verify la')).toEqual(['latest']);
      // Only the first argument of label is a snapshot; options still complete as options.
      expect(complete('lychd-crypt label latest ')).not.toContain('previous');
      expect(complete('lychd-crypt delete --d')).toEqual(['--dry-run']);
      // The stub answers for another crypt only when --crypt is passed on.
      expect(complete('lychd-crypt --crypt other pin ')).toEqual(['20200101T000000Z-other-crypt', 'latest', 'previous']);
      // A failing program (no crypt, no permission) offers only the keywords, silently.
      expect(complete('lychd-crypt --crypt broken unpin ')).toEqual(['latest', 'previous']);
    });

    it('completes commands, options, choices and files', () => {
      expect(complete('lychd-crypt sn')).toEqual(['snapshot']);
      expect(complete('lychd-crypt --crypt /srv/x ro')).toEqual(['rollback']);
      expect(complete('lychd-crypt init --an')).toEqual(['--answers']);
      expect(complete('lychd-crypt snapshot --mode c')).toEqual(['checkpoint', 'cold']);
      expect(complete('lychd-crypt completion z')).toEqual(['zsh']);
      writeFileSync(path.join(dir, 'site.yaml'), 'version: 1\n');
      expect(complete('lychd-crypt init --answers si')).toEqual(['site.yaml']);
      expect(complete('lychd-crypt prune --')).toContain('--max-age');
      expect(complete('lychd-crypt prune --')).toContain('--json');
    });
  });

  it.skipIf(toolSkipReason('zsh'))('the zsh completion parses', () => {
    const file = path.join(dir, '_lychd-crypt');
    writeFileSync(file, renderZsh(doc));
    const r = spawnSync('zsh', ['-n', file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('#compdef lychd-crypt');
  });

  it('the zsh completion asks the program for snapshot names where a command takes one', () => {
    const z = renderZsh(doc);
    expect(z).toContain("rollback) _arguments $globals");
    expect(z).toMatch(/rollback\) _arguments .*'1:snapshot:_lychd_crypt_snapshots'/);
    expect(z).toMatch(/delete\) _arguments .*'\*:snapshot:_lychd_crypt_snapshots'/);
    expect(z).toContain('_call_program snapshots lychd-crypt ${crypt:+--crypt} ${crypt:+${(q)crypt}} list --names 2>/dev/null');
  });

  describe.skipIf(toolSkipReason('fish'))('fish completion', () => {
    const complete = completer('fish');

    it('loads in real fish and completes commands, options, choices and snapshot names', () => {
      const r = spawnSync('fish', ['--no-config', '-n', '-c', renderFish(doc)], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(complete('lychd-crypt sn')).toEqual(['snapshot']);
      expect(complete('lychd-crypt snapshot --mode c')).toEqual(['checkpoint', 'cold']);
      expect(complete('lychd-crypt delete --dr')).toEqual(['--dry-run']);
      expect(complete('lychd-crypt completion f')).toEqual(['fish']);
      expect(complete('lychd-crypt rollback ')).toEqual(['20261122T093000Z-pre-upgrade', '20261123T101500Z', 'latest', 'previous']);
      expect(complete('lychd-crypt --crypt other verify ')).toEqual(['20200101T000000Z-other-crypt', 'latest', 'previous']);
      expect(complete('lychd-crypt --crypt broken delete ')).toEqual(['latest', 'previous']);
    });
  });

  it.skipIf(toolSkipReason('zsh'))('completes snapshot names in real zsh (its completion system, in a pseudo-terminal)', () => {
    const complete = completer('zsh');
    expect(complete('lychd-crypt rollback ')).toEqual(['20261122T093000Z-pre-upgrade', '20261123T101500Z', 'latest', 'previous']);
    expect(complete('lychd-crypt --crypt other delete ')).toEqual(['20200101T000000Z-other-crypt', 'latest', 'previous']);
    expect(complete('lychd-crypt --crypt broken verify ')).toEqual(['latest', 'previous']);
  });

  // Defence in depth: whatever `list --names` prints, a shell offers only names of the grammar and runs nothing.
  describe.each(['bash', 'zsh', 'fish'] as const)('a hostile `list --names` in %s', (shell) => {
    it.skipIf(toolSkipReason(shell))('evaluates nothing and offers only valid names', () => {
      const complete = completer(shell);
      for (const line of ['lychd-crypt --crypt evil rollback ', 'lychd-crypt --crypt evil delete 2026 ', 'lychd-crypt --crypt evil verify 2']) {
        const offered = complete(line);
        expect(offered.filter((n) => !['latest', 'previous'].includes(n)), line).toEqual(['20261123T101500Z']);
      }
      expect(readdirSync(dir).filter((f) => f.startsWith('pwned'))).toEqual([]);
    });
  });

  it('`completion` prints the same scripts and refuses other shells', async () => {
    expect(await help(['completion', 'bash'])).toBe(renderBash(doc));
    expect(await help(['completion', 'zsh'])).toBe(renderZsh(doc));
    expect(await help(['completion', 'fish'])).toBe(renderFish(doc));
    expect(await main(['completion', 'tcsh'], { stdout: { write: () => true } as never, stderr: { write: () => true } as never, stdinIsTTY: false, env: {} })).toBe(2);
  });
});
