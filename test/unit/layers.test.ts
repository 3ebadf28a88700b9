// The folders of src/ are its layers (README "Architecture"): model, base, install, runtime, care, cli,
// and the entry points on top. Every import goes down that list or stays in its layer; no folder, at any
// depth, imports a folder that imports it back; only the CLI sees the command context.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/env.js';

const LAYERS = ['model', 'base', 'install', 'runtime', 'care', 'cli'];
const src = path.join(REPO, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : /\.ts$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path.join(dir, e.name)] : [],
  );
}

const rel = (f: string) => path.relative(src, f);
/** Relative imports of a file (static, type-only, re-exports and import()), as paths relative to src/. */
const importsOf = (f: string) =>
  [...readFileSync(f, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)]
    .map((m) => (m[1] ?? m[2])!)
    .map((spec) => rel(path.resolve(path.dirname(f), spec)).replace(/\.js$/, '.ts'));
/** A file's layer: its top-level folder's place in LAYERS; the entry points (src/*.ts) are above them all. */
const layer = (f: string) => (f.includes('/') ? LAYERS.indexOf(f.split('/')[0]!) : LAYERS.length);

const files = sources(src).map(rel);
const edges = sources(src).flatMap((f) => importsOf(f).filter((t) => !t.startsWith('..')).map((to) => ({ from: rel(f), to })));

describe('the layers of src/', () => {
  it('src/ has the six layers and the entry points, nothing else', () => {
    const top = readdirSync(src, { withFileTypes: true });
    expect(top.filter((e) => e.isDirectory()).map((e) => e.name).sort()).toEqual([...LAYERS].sort());
    expect(top.filter((e) => !e.isDirectory()).map((e) => e.name).sort()).toEqual(['launch.ts', 'main.ts']);
    expect(edges.length).toBeGreaterThan(500); // the import scan sees the graph
  });

  it('no import runs up a layer', () => {
    expect(edges.filter((e) => layer(e.to) > layer(e.from)).map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  it('no folder, at any depth, imports a folder that imports it back', () => {
    const dir = (f: string) => path.dirname(f);
    const next = new Map<string, Set<string>>();
    for (const e of edges) if (dir(e.from) !== dir(e.to)) next.set(dir(e.from), (next.get(dir(e.from)) ?? new Set()).add(dir(e.to)));
    // Folder a reaches folder b (directly or through others); a circle is a pair that reach each other.
    const reach = (a: string) => {
      const seen = new Set<string>();
      const todo = [...(next.get(a) ?? [])];
      while (todo.length) {
        const d = todo.pop()!;
        if (seen.has(d)) continue;
        seen.add(d);
        todo.push(...(next.get(d) ?? []));
      }
      return seen;
    };
    const circles = [...next.keys()].filter((a) => reach(a).has(a));
    expect(circles).toEqual([]);
  });

  it('the model imports nothing outside itself, and loads no package', () => {
    const model = files.filter((f) => f.startsWith('model/'));
    expect(model.length).toBeGreaterThan(4);
    expect(edges.filter((e) => e.from.startsWith('model/') && !e.to.startsWith('model/'))).toEqual([]);
    const packages = model.filter((f) => /from\s*['"](?!\.)[^'"]+['"]/.test(readFileSync(path.join(src, f), 'utf8')));
    expect(packages).toEqual([]);
  });

  it('only the CLI layer knows the command context', () => {
    const knows = files.filter((f) => !f.startsWith('cli/') && /\bCommandContext\b/.test(readFileSync(path.join(src, f), 'utf8')));
    expect(knows).toEqual([]);
  });
});
