// Prompts stay at the edge: only src/ui/ imports @clack/prompts, and planning and applying never import
// the UI (the plan is the same whether a person or a file gave the answers). Output has its doors: the
// sink in src/cli.ts (src/core/stdio.ts) and, for prompts, src/ui/prompts.ts — both escape what they print.
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
  it('only src/ui/ imports @clack/prompts', () => {
    const offenders = sources(src).filter((f) => !rel(f).startsWith('ui/') && imports(f).some((i) => i.startsWith('@clack/')));
    expect(offenders.map(rel)).toEqual([]);
  });

  it('src/plan, src/apply, src/detect, src/render and src/config never import src/ui', () => {
    const pure = sources(src).filter((f) => /^(plan|apply|detect|render|config)\//.test(rel(f)));
    expect(pure.length).toBeGreaterThan(10);
    const offenders = pure.filter((f) => imports(f).some((i) => /(^|\/)ui\//.test(i)));
    expect(offenders.map(rel)).toEqual([]);
  });

  it('text reaches clack only through src/ui/prompts.ts, which escapes it', () => {
    const offenders = sources(src).filter((f) => rel(f) !== 'ui/prompts.ts' && /\bp\.(?:note|intro|outro|log\.\w+|text|select|confirm|multiselect)\(/.test(readFileSync(f, 'utf8')));
    expect(offenders.map(rel)).toEqual([]);
  });

  it('nothing writes to the process\'s streams but the output sink (launch.ts: the version, before the CLI loads)', () => {
    const offenders = sources(src).filter((f) => !['core/stdio.ts', 'launch.ts'].includes(rel(f)) && /process\.(?:stdout|stderr)\.write|console\.(?:log|error|warn|info)/.test(readFileSync(f, 'utf8')));
    expect(offenders.map(rel)).toEqual([]);
  });
});
