// The man page and the completion scripts are made from the same command tree as --help: every command
// and option appears, the output is deterministic, and the scripts work in real bash (and parse in zsh).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, programTree } from '../../src/cli.js';
import { renderBash, renderZsh } from '../../src/docs/completion.js';
import { describeProgram, type ProgramDoc } from '../../src/docs/describe.js';
import { renderMan } from '../../src/docs/man.js';
import { VERSION } from '../../src/version.js';
import { REPO, toolSkipReason } from '../helpers/env.js';
import { renderDocs } from '../../packaging/docs.js';

async function help(argv: string[]): Promise<string> {
  let out = '';
  const io = { stdout: { write: (s: string) => ((out += s), true) } as never, stderr: { write: () => true } as never, stdinIsTTY: false, env: {} };
  await main(argv, io);
  return out;
}

describe('docs from the command tree', () => {
  let doc: ProgramDoc;
  let dir: string;
  beforeAll(async () => {
    doc = describeProgram(await programTree());
    dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-docs-'));
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

  describe.skipIf(toolSkipReason('bash'))('bash completion', () => {
    const complete = (line: string): string[] => {
      const file = path.join(dir, 'lychd-crypt.bash');
      writeFileSync(file, renderBash(doc));
      const words = line.split(' ');
      const script = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _lychd_crypt; printf '%s\\n' "\${COMPREPLY[@]}"`;
      return execFileSync('bash', ['--norc', '-c', script, 'bash', file, ...words], { encoding: 'utf8', cwd: dir }).split('\n').filter(Boolean).sort();
    };

    it('completes commands, options, choices and files', () => {
      expect(complete('lychd-crypt sn')).toEqual(['snapshot']);
      expect(complete('lychd-crypt --crypt /srv/x ro')).toEqual(['rollback']);
      expect(complete('lychd-crypt init --a')).toEqual(['--answers']);
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

  it('`completion` prints the same scripts and refuses other shells', async () => {
    expect(await help(['completion', 'bash'])).toBe(renderBash(doc));
    expect(await help(['completion', 'zsh'])).toBe(renderZsh(doc));
    expect(await main(['completion', 'fish'], { stdout: { write: () => true } as never, stderr: { write: () => true } as never, stdinIsTTY: false, env: {} })).toBe(2);
  });
});
