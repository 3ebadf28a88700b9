// Start-up stays cheap (issue 16): what a command's start evaluates is read from esbuild's metafile of the
// runtime bundle — the modules reachable from the entry, or from a runtime command, by static imports
// alone (dynamic `import()` is what loads the rest, when a command needs it). And the runtime directory the
// build writes: the addon loaded from beside the entry, the manifest, and how little `--version` parses.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/env.js';
import { VERSION } from '../../src/version.js';
import { manifestProblems } from '../../src/core/runtime-manifest.js';

let meta: Metafile;

beforeAll(async () => {
  const r = await build({
    entryPoints: [path.join(REPO, 'src/main.ts')],
    absWorkingDir: REPO,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    metafile: true,
    outfile: path.join(os.tmpdir(), 'lychd-startup-meta.js'),
    external: ['pg-native', '*.node'],
    loader: { '.service': 'text', '.timer': 'text' },
    logLevel: 'silent',
  });
  meta = r.metafile;
}, 60_000);

/** Each module reachable from `entry` by static imports, with the chain that reaches it. */
function staticallyReached(entry: string): Map<string, string> {
  const chains = new Map([[entry, entry]]);
  const todo = [entry];
  while (todo.length) {
    const from = todo.pop()!;
    for (const i of meta.inputs[from]?.imports ?? []) {
      if (i.kind !== 'import-statement' && i.kind !== 'require-call') continue;
      if (chains.has(i.path)) continue;
      chains.set(i.path, `${chains.get(from)} -> ${i.path}`);
      if (!i.external) todo.push(i.path); // a Node built-in (node:crypto) is listed, not followed

    }
  }
  return chains;
}

const offenders = (entry: string, forbidden: RegExp): string[] => [...staticallyReached(entry)].filter(([p]) => forbidden.test(p)).map(([, chain]) => chain);

// Only init may load these (repair may prompt, so @clack is allowed there).
const PROMPTS = /node_modules\/@clack\//;
const INIT_ONLY = /node_modules\/systeminformation\/|src\/config\/(answers|load-answers)\.ts|src\/detect\/device-details\.ts|src\/retention\/answers\.ts|src\/ui\/(init-flow|index)\.ts/;

describe('what a start evaluates', () => {
  it('the entry (`--version`) loads nothing but itself; the CLI commander and the everyday commands, not init, doctor, repair or verify', () => {
    expect(offenders('src/main.ts', /node_modules\/|src\/commands\/|src\/cli\.ts/)).toEqual([]);
    expect(offenders('src/cli.ts', /node_modules\/(?!commander\/)|src\/commands\/(init|doctor|repair|verify|completion)\.ts/)).toEqual([]);
  });

  it.each(['runtime', 'list', 'snapshot', 'rollback', 'delete', 'annotate', 'prune', 'status', 'crypts', 'db', 'verify', 'completion', 'repair'])(
    'runtime command %s does not load init-only modules (device details, answers schema, prompts)',
    (command) => {
      expect(offenders(`src/commands/${command}.ts`, INIT_ONLY)).toEqual([]);
      if (command !== 'repair') expect(offenders(`src/commands/${command}.ts`, PROMPTS)).toEqual([]);
    },
  );

  // Each of these makes Node compile a dozen internal modules (crypto ~7 ms, child_process with net and
  // dgram ~9 ms on the machine the README's figures come from): what needs them imports them when it runs.
  it('the runtime commands (one chunk group: snapshot, list, rollback, …) import no costly Node built-in at start', () => {
    expect(offenders('src/commands/runtime.ts', /^node:(crypto|child_process|perf_hooks|https?|net|zlib)$/)).toEqual([]);
  });

  it('list, snapshot and rollback do not load zod', () => {
    for (const c of ['list', 'snapshot', 'rollback']) expect(offenders(`src/commands/${c}.ts`, /node_modules\/zod\//)).toEqual([]);
  });

  it('execa and pg load on first use: list and snapshot (--mode none runs one btrfs, connects nowhere) parse neither at start', () => {
    for (const c of ['list', 'snapshot']) expect(offenders(`src/commands/${c}.ts`, /node_modules\/(execa|pg|pgpass)\//)).toEqual([]);
  });
});

describe('the runtime directory', () => {
  let dir: string;
  let probe: string;
  let rt: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-startup-'));
    // A helper entry that makes one syscall through koffi, built like the runtime.
    const r = spawnSync('node', [path.join(REPO, 'scripts/build.mjs'), path.join(REPO, 'test/fixtures/startup-koffi-entry.ts'), path.join(dir, 'probe')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    probe = path.join(dir, 'probe/lychd-crypt.js');
    const b = spawnSync('node', [path.join(REPO, 'scripts/build.mjs'), path.join(REPO, 'src/main.ts'), path.join(dir, 'rt')], { encoding: 'utf8' });
    expect(b.status, b.stderr).toBe(0);
    rt = path.join(dir, 'rt');
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (file: string, args: string[] = []) => spawnSync('node', [file, ...args], { encoding: 'utf8' });

  it('loads the addon from beside the entry; without it, a command needing a syscall says to reinstall', () => {
    expect(run(probe).stdout.trim()).toBe('beside');
    rmSync(path.join(dir, 'probe/koffi.node'));
    const missing = run(probe);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('the runtime is incomplete: its native addon');
  });

  it('answers --version and --help, and its manifest lists every file with its digest', async () => {
    expect(run(path.join(rt, 'lychd-crypt.js'), ['--version']).stdout.trim()).toBe(VERSION);
    expect(run(path.join(rt, 'lychd-crypt.js'), ['--help']).stdout).toContain('snapshot');
    expect(await manifestProblems(rt)).toEqual([]);
    const manifest = JSON.parse(readFileSync(path.join(rt, 'manifest.json'), 'utf8'));
    expect(Object.keys(manifest.files).sort()).toEqual(readdirSync(rt).filter((f) => f !== 'manifest.json').sort());
    expect(manifest.version).toBe(VERSION);
    expect(manifest.packages).toContain('commander');
  });

  it('loading the CLI with the runtime commands, koffi and pg compiles none of crypto, child_process, https, zlib or undici', () => {
    // commander requires child_process, koffi's own loader https, zlib and crypto, and pg crypto and (asking
    // whether it runs in a Cloudflare Worker) undici when they load; the build gives commander and pg lazy
    // proxies, pg's question its answer, and imports koffi's addon directly (scripts/build.mjs).
    // The CLI chunk holds the everyday commands too (src/commands/runtime.ts); esm-: pg's ES module entry.
    const chunks = readdirSync(rt).filter((f) => /^(cli|koffi|esm)-.*\.mjs$/.test(f));
    expect(chunks.map((f) => f.split('-')[0]).sort()).toEqual(['cli', 'esm', 'koffi']);
    // The list goes to a file: touching process.stdout (a pipe here) would load net itself.
    const out = path.join(dir, 'loaded.json');
    const probe = `${chunks.map((f) => `await import(${JSON.stringify(pathToFileURL(path.join(rt, f)).href)});`).join('')} (await import('node:fs')).writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.moduleLoadList));`;
    const r = spawnSync('node', ['--input-type=module', '-e', probe], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const loaded = JSON.parse(readFileSync(out, 'utf8')) as string[];
    expect(loaded).toContain('NativeModule fs/promises'); // the probe did load the chunks
    expect(loaded.filter((m) => /^NativeModule (crypto|child_process|https|http|zlib|internal\/deps\/undici\/undici)$/.test(m))).toEqual([]);
  });

  it('the entry (what `--version` parses) is a few lines of CommonJS; `--help` reaches no init, doctor, repair or verify code, nor koffi', () => {
    const closure = (file: string, seen = new Set<string>()): Set<string> => {
      if (seen.has(file)) return seen;
      seen.add(file);
      for (const m of readFileSync(path.join(rt, file), 'utf8').matchAll(/(?:import|from)\s*"\.\/([^"]+)"/g)) closure(m[1]!, seen);
      return seen;
    };
    const size = (files: Set<string>) => [...files].reduce((n, f) => n + statSync(path.join(rt, f)).size, 0);
    // `--version` answered before any ES module loads: no import runs for it.
    const entry = readFileSync(path.join(rt, 'lychd-crypt.js'), 'utf8');
    expect(entry).toMatch(/^#!\/usr\/bin\/env node\n'use strict';\n/);
    expect(entry.length).toBeLessThan(400);
    expect(entry.indexOf('--version')).toBeLessThan(entry.indexOf("import('./main.mjs')"));
    expect(JSON.parse(readFileSync(path.join(rt, 'package.json'), 'utf8'))).toEqual({ type: 'commonjs' });
    const main = closure('main.mjs');
    expect(size(main)).toBeLessThan(16_000);
    // What main imports dynamically is the CLI; its static closure (the parser and the everyday commands) is what `--help` parses.
    const cli = /import\("\.\/(cli-[^"]+)"\)/.exec(readFileSync(path.join(rt, 'main.mjs'), 'utf8'))?.[1];
    expect(cli).toBeDefined();
    const help = closure(cli!, new Set(main));
    expect([...help].filter((f) => /^(init|snapshot|runtime|rollback|list|koffi|repair|verify)-/.test(f))).toEqual([]);
    expect(size(help)).toBeLessThan(250_000);
  });

});
