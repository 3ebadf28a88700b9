// Completion of what is not a snapshot (issue 24): `--crypt` offers the registered crypt names (the
// program's own `crypts --names`, of the registry on the line; a path once a / is typed), and `db` offers
// start, stop, restart and status — in real bash, fish and zsh. A hostile answer is never offered or run.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { programTree } from '../../src/cli/program.js';
import { renderBash, renderFish, renderZsh } from '../../src/cli/docs/completion.js';
import { describeProgram, type ProgramDoc } from '../../src/cli/docs/describe.js';
import { toolSkipReason } from '../helpers/env.js';
import { complete as completeIn, type Shell } from '../helpers/complete.js';

describe('completion of crypt names and db actions', () => {
  let doc: ProgramDoc;
  let dir: string;
  let stubDir: string;
  beforeAll(async () => {
    doc = describeProgram(await programTree());
    dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-complete-'));
    mkdirSync(path.join(dir, 'srv/crypt-a'), { recursive: true });
    stubDir = path.join(dir, 'bin');
    mkdirSync(stubDir);
    writeFileSync(
      path.join(stubDir, 'lychd-crypt'),
      [
        '#!/bin/sh',
        'case "$*" in',
        '  "crypts --names") printf "%s\\n" lychd lychd-test alice ;;',
        '  "--registry /tmp/other crypts --names") echo elsewhere ;;',
        // Lines that would run or match something if a script evaluated them.
        '  "--registry /tmp/evil crypts --names") printf "%s\\n" \'$(touch pwned)\' \'*\' \'a b\' Upper good ;;',
        '  *) echo "lychd-crypt: no" >&2; exit 2 ;;',
        'esac',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const completer = (shell: Shell) => (line: string): string[] =>
    completeIn(shell, line, { dir, script: { bash: renderBash, zsh: renderZsh, fish: renderFish }[shell](doc), env: { ...process.env, PATH: `${stubDir}:${process.env.PATH}` } });

  it('the tree: db takes one of start, stop, restart, status', () => {
    expect(doc.commands.find((c) => c.name === 'db')!.args[0]).toMatchObject({ name: 'action', choices: ['start', 'stop', 'restart', 'status'] });
  });

  describe.each(['bash', 'fish', 'zsh'] as const)('%s', (shell) => {
    it.skipIf(toolSkipReason(shell))('--crypt offers the registered names, of the registry on the line; db its actions', () => {
      const complete = completer(shell);
      expect(complete('lychd-crypt --crypt ')).toEqual(['alice', 'lychd', 'lychd-test']);
      expect(complete('lychd-crypt --crypt ly')).toEqual(['lychd', 'lychd-test']);
      expect(complete('lychd-crypt --registry /tmp/other --crypt ')).toEqual(['elsewhere']);
      expect(complete('lychd-crypt db ')).toEqual(['restart', 'start', 'status', 'stop']);
      expect(complete('lychd-crypt db re')).toEqual(['restart']);
      expect(complete('lychd-crypt --registry /tmp/evil --crypt ')).toEqual(['good']);
      expect(readdirSync(dir).filter((f) => f.startsWith('pwned'))).toEqual([]);
    });
  });

  it.skipIf(toolSkipReason('bash'))('bash: a path once a / is typed', () => {
    expect(completer('bash')(`lychd-crypt --crypt ${dir}/srv/cr`)).toEqual([`${dir}/srv/crypt-a`]);
  });
});
