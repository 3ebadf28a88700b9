// Prompts stay at the edge: only src/cli/ui/ imports @clack/prompts, and no layer below the CLI imports
// the UI (the plan is the same whether a person or a file gave the answers). Output has its doors: the
// sink in src/cli/program.ts (src/base/output/stdio.ts) and, for prompts, src/cli/ui/prompts.ts — both escape what they print.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/env.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

const src = path.join(REPO, 'src');
const rel = (f: string) => path.relative(src, f);
const imports = (f: string) => [...readFileSync(f, 'utf8').matchAll(/(?:from|import\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);

describe('the UI boundary', () => {
  it('only src/cli/ui/ imports @clack/prompts', () => {
    const offenders = sources(src).filter((f) => !rel(f).startsWith('cli/ui/') && imports(f).some((i) => i.startsWith('@clack/')));
    expect(offenders.map(rel)).toEqual([]);
  });

  it('src/model, src/base, src/install, src/runtime and src/care never import src/cli/ui', () => {
    const below = sources(src).filter((f) => /^(model|base|install|runtime|care)\//.test(rel(f)));
    expect(below.length).toBeGreaterThan(10);
    const offenders = below.filter((f) => imports(f).some((i) => i.startsWith('.') && rel(path.resolve(path.dirname(f), i)).startsWith('cli/ui/')));
    expect(offenders.map(rel)).toEqual([]);
  });

  it('text reaches clack only through src/cli/ui/prompts.ts, which escapes it', () => {
    const offenders = sources(src).filter((f) => rel(f) !== 'cli/ui/prompts.ts' && /\bp\.(?:note|intro|outro|log\.\w+|text|select|confirm|multiselect)\(/.test(readFileSync(f, 'utf8')));
    expect(offenders.map(rel)).toEqual([]);
  });

  it('nothing writes to the process\'s streams but the output sink (launch.ts: the version, before the CLI loads)', () => {
    const offenders = sources(src).filter((f) => !['base/output/stdio.ts', 'launch.ts'].includes(rel(f)) && /process\.(?:stdout|stderr)\.write|console\.(?:log|error|warn|info)/.test(readFileSync(f, 'utf8')));
    expect(offenders.map(rel)).toEqual([]);
  });
});
