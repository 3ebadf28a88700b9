// The man page is complete (issue 24): every exit status (5, 124 and 130 too), every environment variable a
// user sets (LYCHD_CRYPT_REGISTRY, LYCHD_DEBUG), EXAMPLES, deinit and db restart — and it names only what
// the packages ship (no docs/ or src/ path of the source tree, which neither package installs).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { programTree } from '../../src/cli/program.js';
import { describeProgram } from '../../src/cli/docs/describe.js';
import { renderMan } from '../../src/cli/docs/man.js';
import { REPO } from '../helpers/env.js';

/** The page's text as man shows it: no comment lines, roff's escapes undone. */
const shown = (roff: string): string =>
  roff
    .split('\n')
    .filter((l) => !l.startsWith('.\\"'))
    .join('\n')
    .replace(/\\f[BIR]/g, '')
    .replace(/\\-/g, '-')
    .replace(/\\e/g, '\\');

describe('the man page', async () => {
  const man = renderMan({ doc: describeProgram(await programTree()), version: '0.0.0', date: '2026-01-01' });
  const text = shown(man);
  const section = (name: string): string => text.split(`.SH ${name}\n`)[1]!.split('\n.SH ')[0]!;

  it('every exit status', () => {
    const codes = [...section('EXIT STATUS').matchAll(/^\.TP\n(\d+)$/gm)].map((m) => m[1]);
    expect(codes).toEqual(['0', '1', '2', '3', '4', '5', '124', '130']);
  });

  it('the environment a user sets', () => {
    for (const v of ['LYCHD_CRYPT', 'LYCHD_CRYPT_REGISTRY', 'LYCHD_CRYPT_STATE', 'LYCHD_DEBUG', 'SUDO_USER', 'PGPASSWORD', 'NO_COLOR']) expect(section('ENVIRONMENT')).toContain(v);
  });

  it('examples, and the commands of issue 24', () => {
    expect(section('EXAMPLES')).toMatch(/sudo lychd-crypt init --answers crypt\.yaml --yes/);
    expect(text).toMatch(/^\.SS deinit$/m);
    expect(text).toMatch(/^\.SS db start\|stop\|restart\|status$/m);
  });

  it('names only what the packages ship', () => {
    expect(text).not.toMatch(/\bdocs\/|\bsrc\//);
    for (const m of text.matchAll(/\/usr\/share\/lychd-crypt\/([\w.-]+)/g)) expect(existsSync(path.join(REPO, 'templates', m[1]!)), m[0]).toBe(true);
  });
});
