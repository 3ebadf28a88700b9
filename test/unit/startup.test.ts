// Start-up stays cheap (issue 16): what a command's start evaluates is read from esbuild's metafile of the
// runtime bundle — the modules reachable from the entry, or from a runtime command, by static imports
// alone (dynamic `import()` is what loads the rest, when a command needs it). And the runtime directory the
// build writes: the addon loaded from beside the entry, the manifest, and how little `--version` parses.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/env.js';
import { VERSION } from '../../src/base/version.js';
import { manifestProblems } from '../../src/base/bundle/manifest.js';

let meta: Metafile;

beforeAll(async () => {
  const r = await build({
    entryPoints: [path.join(REPO, 'src/main.ts'), path.join(REPO, 'src/launch.ts')],
    absWorkingDir: REPO,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    metafile: true,
    outdir: path.join(os.tmpdir(), 'lychd-startup-meta'),
    external: ['pg-native', '*.node'],
    loader: { '.service': 'text', '.timer': 'text' },
    logLevel: 'silent',
  });
  meta = r.metafile;
}, 60_000);

/** Each module reachable from `entry` by static imports, with the chain that reaches it. */
function staticallyReached(entry: string): Map<string, string> {
  if (!meta.inputs[entry]) throw new Error(`${entry} is not in the bundle: a moved file? (a start from nowhere reaches nothing)`);
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
const INIT_ONLY = /node_modules\/systeminformation\/|src\/install\/answers\/(schema|load|set-and-forget)\.ts|src\/install\/detect\/device-details\.ts|src\/cli\/ui\/(init-flow|index)\.ts/;
// The source files the patterns here name: each must be in the bundle, or a move would leave a pattern
// matching nothing and its test passing for nothing.
const NAMED = ['src/install/answers/schema.ts', 'src/install/answers/load.ts', 'src/install/answers/set-and-forget.ts', 'src/install/detect/device-details.ts', 'src/cli/ui/init-flow.ts', 'src/cli/ui/index.ts', 'src/cli/program.ts', 'src/main.ts', 'src/launch.ts', 'src/cli/commands/init.ts', 'src/cli/commands/doctor.ts', 'src/cli/commands/runtime.ts'];

describe('what a start evaluates', () => {
  it('the files the patterns name are where the patterns look', () => {
    expect(NAMED.filter((f) => !meta.inputs[f])).toEqual([]);
  });

  it('the entry (`--version`) loads nothing but itself; the CLI commander and the everyday commands, not init, doctor, repair or verify', () => {
    expect(offenders('src/launch.ts', /node_modules\/|src\/cli\/commands\/|src\/cli\/program\.ts|src\/main\.ts/)).toEqual([]);
    expect(offenders('src/cli/program.ts', /node_modules\/(?!commander\/)|src\/cli\/commands\/(init|doctor|repair|verify|completion)\.ts/)).toEqual([]);
  });

  it.each(['runtime', 'list', 'snapshot', 'rollback', 'delete', 'annotate', 'prune', 'status', 'crypts', 'db', 'verify', 'completion', 'repair'])(
    'runtime command %s does not load init-only modules (device details, answers schema, prompts)',
    (command) => {
      expect(offenders(`src/cli/commands/${command}.ts`, INIT_ONLY)).toEqual([]);
      if (command !== 'repair') expect(offenders(`src/cli/commands/${command}.ts`, PROMPTS)).toEqual([]);
    },
  );

  // Each of these makes Node compile a dozen internal modules (crypto ~7 ms, child_process with net and
  // dgram ~9 ms on the machine the README's figures come from): what needs them imports them when it runs.
  it('the runtime commands (src/cli/commands/runtime.ts: snapshot, list, rollback, …) import no costly Node built-in at start', () => {
    expect(offenders('src/cli/commands/runtime.ts', /^node:(crypto|child_process|perf_hooks|https?|net|zlib)$/)).toEqual([]);
  });

  it('list, snapshot and rollback do not load zod', () => {
    for (const c of ['list', 'snapshot', 'rollback']) expect(offenders(`src/cli/commands/${c}.ts`, /node_modules\/zod\//)).toEqual([]);
  });

  it('execa and pg load on first use: list and snapshot (--mode none runs one btrfs, connects nowhere) parse neither at start', () => {
    for (const c of ['list', 'snapshot']) expect(offenders(`src/cli/commands/${c}.ts`, /node_modules\/(execa|pg|pgpass)\//)).toEqual([]);
  });
});

describe('the runtime directory', () => {
  let dir: string;
  let probe: string;
  let rt: string;
  let mainInputs: string[];
  /** Bytes of zod that main.js carries (its mini build, tree-shaken), and from which of zod's files. */
  let zodInMain: { bytes: number; files: string[] };
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-startup-'));
    // A helper entry that makes one syscall through koffi and one connection attempt through pg, built like the runtime.
    const r = spawnSync('node', [path.join(REPO, 'scripts/build.mjs'), path.join(REPO, 'test/fixtures/startup-koffi-entry.ts'), path.join(dir, 'probe')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    probe = path.join(dir, 'probe/lychd-crypt.js');
    const meta = path.join(dir, 'meta.json');
    const b = spawnSync('node', [path.join(REPO, 'scripts/build.mjs'), path.join(REPO, 'src/main.ts'), path.join(dir, 'rt')], { encoding: 'utf8', env: { ...process.env, LYCHD_BUILD_METAFILE: meta } });
    expect(b.status, b.stderr).toBe(0);
    rt = path.join(dir, 'rt');
    const m = JSON.parse(readFileSync(meta, 'utf8')) as Metafile;
    // What went into main.js (an input whose every export was shaken off is listed with 0 bytes).
    const main = Object.entries(m.outputs).find(([f]) => f.endsWith('/main.js'))![1];
    mainInputs = Object.entries(main.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([p]) => p);
    const zod = Object.entries(main.inputs).filter(([p, i]) => p.includes('node_modules/zod/') && i.bytesInOutput > 0);
    zodInMain = { bytes: zod.reduce((n, [, i]) => n + i.bytesInOutput, 0), files: zod.map(([p]) => p) };
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (file: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) => spawnSync('node', [file, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  let loads = 0;
  /** What a run of the entry loaded: Node's built-in modules, and the files it required (the vendored ones). */
  const loadedBy = (args: string[]) => {
    const out = path.join(dir, `loaded-${loads++}.json`);
    const hook = path.join(dir, 'loaded-hook.cjs');
    // The list goes to a file: touching process.stdout (a pipe here) would load net itself.
    writeFileSync(hook, `process.on('exit', () => require('node:fs').writeFileSync(process.env.LOADED_LOG, JSON.stringify({ builtins: process.moduleLoadList, files: Object.keys(require.cache) })));\n`);
    const r = run(path.join(rt, 'lychd-crypt.js'), args, { NODE_OPTIONS: `--require ${hook}`, LOADED_LOG: out, LYCHD_CRYPT_COMPILE_CACHE: '0' });
    return { ...r, ...(JSON.parse(readFileSync(out, 'utf8')) as { builtins: string[]; files: string[] }) };
  };
  const COSTLY = /^NativeModule (crypto|child_process|https|http|zlib|internal\/deps\/undici\/undici)$/;

  it('loads the addon from beside the entry; koffi and pg load none of crypto, child_process, https, zlib or undici; without the addon, a command needing a syscall says to reinstall', () => {
    // koffi's own loader requires https, zlib and crypto, pg crypto and (asking whether it runs in a
    // Cloudflare Worker, on its first connection) undici: the build imports koffi's addon directly, gives
    // pg's password crypto a lazy proxy and its question its answer (scripts/build.mjs).
    const out = path.join(dir, 'probe-loaded.json');
    const r = run(probe, [], { LOADED_LOG: out });
    expect(r.stdout.trim()).toBe('beside');
    const loaded = JSON.parse(readFileSync(out, 'utf8')) as string[];
    expect(loaded).toContain('NativeModule net'); // pg did try to connect
    expect(loaded.filter((m) => COSTLY.test(m))).toEqual([]);
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
    expect(manifest.packages).toEqual(expect.arrayContaining(['commander', 'pg', 'zod', 'yaml', 'systeminformation', 'execa', '@clack/prompts']));
  });

  it('`--version` reads the entry alone: it answers with nothing else in the directory; other commands say the runtime is incomplete', () => {
    const alone = path.join(dir, 'alone');
    mkdirSync(alone);
    copyFileSync(path.join(rt, 'lychd-crypt.js'), path.join(alone, 'lychd-crypt.js'));
    copyFileSync(path.join(rt, 'package.json'), path.join(alone, 'package.json'));
    const r = run(path.join(alone, 'lychd-crypt.js'), ['--version']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
    // Anything else needs main.js: without it, a message that says what to do, not a stack trace.
    const help = run(path.join(alone, 'lychd-crypt.js'), ['--help']);
    expect(help.status).toBe(1);
    expect(help.stderr).toMatch(/^lychd-crypt: the runtime is incomplete: .*main\.js cannot be read \(ENOENT\); reinstall it/);
    expect(help.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(path.join(rt, 'lychd-crypt.js'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n"use strict";\n/);
    expect(JSON.parse(readFileSync(path.join(rt, 'package.json'), 'utf8'))).toEqual({ type: 'commonjs' });
  });

  it('main.js holds none of the vendored packages; `--help` and a runtime command load none of them, nor a costly built-in', () => {
    // zod's mini build is the exception: imported by name (src/base/state-schema.ts), esbuild keeps only what
    // the journal and metadata schemas use; the full zod (init's answers schema) stays vendored.
    expect(mainInputs.filter((p) => /node_modules\/(zod|yaml|systeminformation|execa|@clack)\//.test(p) && !p.includes('node_modules/zod/'))).toEqual([]);
    expect(zodInMain.files.filter((p) => !/node_modules\/zod\/(mini|v4\/(mini|core|locales\/index\.js))/.test(p))).toEqual([]);
    expect(zodInMain.bytes).toBeLessThan(40_000);
    expect(readdirSync(rt).filter((f) => f.startsWith('vendor-')).sort()).toEqual(['vendor-clack-core.js', 'vendor-clack-prompts.js', 'vendor-execa.js', 'vendor-systeminformation.js', 'vendor-yaml.js', 'vendor-zod.js']);
    // The bundle is one script with no import(): it runs from V8's code cache, without the ES module loader.
    expect(readFileSync(path.join(rt, 'main.js'), 'utf8')).not.toMatch(/\bimport\(/);
    for (const args of [['--help'], ['--crypt', path.join(dir, 'no-such-crypt'), 'list'], ['--crypt', path.join(dir, 'no-such-crypt'), 'snapshot', '--mode', 'none']]) {
      const r = loadedBy(args);
      expect(r.stderr).not.toMatch(/at .*main\.js/); // a message, not a stack trace
      expect(r.files.filter((f) => /vendor-/.test(f)), args.join(' ')).toEqual([]);
      expect(r.builtins.filter((m) => COSTLY.test(m)), args.join(' ')).toEqual([]);
      // Their messages go to pipes here: written to the descriptor, without Node's stream stack (src/base/output/stdio.ts).
      if (args[0] !== '--help') expect(r.builtins.filter((m) => /^NativeModule (net|stream|tty)$/.test(m)), args.join(' ')).toEqual([]);
    }
  });
});
