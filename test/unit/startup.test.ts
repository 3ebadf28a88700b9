// Start-up stays cheap (issue 16): what a command's start evaluates is read from esbuild's metafile of the
// runtime bundle — the modules reachable from the entry, or from a runtime command, by static imports
// alone (dynamic `import()` is what loads the rest, when a command needs it). And the bundle's native
// addon: loaded from beside the bundle, or from the embedded copy when the file is missing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/env.js';
import { VERSION } from '../../src/version.js';

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
      if (i.external || (i.kind !== 'import-statement' && i.kind !== 'require-call')) continue;
      if (chains.has(i.path)) continue;
      chains.set(i.path, `${chains.get(from)} -> ${i.path}`);
      todo.push(i.path);
    }
  }
  return chains;
}

const offenders = (entry: string, forbidden: RegExp): string[] => [...staticallyReached(entry)].filter(([p]) => forbidden.test(p)).map(([, chain]) => chain);

// Only init may load these (repair may prompt, so @clack is allowed there).
const PROMPTS = /node_modules\/@clack\//;
const INIT_ONLY = /node_modules\/systeminformation\/|src\/config\/(answers|load-answers)\.ts|src\/detect\/device-details\.ts|src\/retention\/answers\.ts|src\/ui\/(init-flow|index)\.ts/;

describe('what a start evaluates', () => {
  it('the entry (`--version`, `--help`, parsing) loads commander and the CLI itself, no command dependencies', () => {
    expect(offenders('src/main.ts', /node_modules\/(?!commander\/)|src\/commands\//)).toEqual([]);
  });

  it.each(['list', 'snapshot', 'rollback', 'delete', 'annotate', 'prune', 'status', 'crypts', 'db', 'verify', 'completion', 'repair'])(
    'runtime command %s does not load init-only modules (device details, answers schema, prompts)',
    (command) => {
      expect(offenders(`src/commands/${command}.ts`, INIT_ONLY)).toEqual([]);
      if (command !== 'repair') expect(offenders(`src/commands/${command}.ts`, PROMPTS)).toEqual([]);
    },
  );

  it('list, snapshot and rollback do not load zod', () => {
    for (const c of ['list', 'snapshot', 'rollback']) expect(offenders(`src/commands/${c}.ts`, /node_modules\/zod\//)).toEqual([]);
  });
});

describe('the bundle', () => {
  let dir: string;
  let cli: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-startup-'));
    // A helper entry that makes one syscall through koffi, bundled like the runtime.
    const entry = path.join(REPO, 'test/fixtures/startup-koffi-entry.ts');
    cli = path.join(dir, 'probe.js');
    const r = spawnSync('node', [path.join(REPO, 'scripts/build.mjs'), entry, cli], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (file: string, args: string[] = []) => spawnSync('node', [file, ...args], { encoding: 'utf8' });

  it('has the addon beside it and loads it from there, or from the embedded copy when it is missing', () => {
    expect(existsSync(path.join(dir, 'lychd-crypt.koffi.node'))).toBe(true);
    const beside = run(cli);
    expect(beside.stdout.trim()).toBe('beside');
    rmSync(path.join(dir, 'lychd-crypt.koffi.node'));
    const embedded = run(cli);
    expect(embedded.stdout.trim()).toBe('embedded');
  });

  it('the runtime answers --version', () => {
    const out = path.join(dir, 'rt/lychd-crypt.js');
    expect(spawnSync('node', [path.join(REPO, 'scripts/build.mjs'), path.join(REPO, 'src/main.ts'), out]).status).toBe(0);
    const r = run(out, ['--version']);
    expect(r.stdout.trim()).toBe(VERSION);
  }, 120_000);
});
