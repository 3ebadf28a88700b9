// Builds the runtime as a directory, dist/lychd-crypt/, that runs with plain `node`:
//   lychd-crypt.js   the entry (src/launch.ts), CommonJS: answers `--version` itself, else loads main.js
//                    through V8's code cache (src/base/bundle/code-cache.ts) and runs the command
//   main.js          src/main.ts and all it imports but the vendored packages: one CommonJS file, minified.
//                    Node 20 pays per ES module (its loader alone ~13 ms, then each file) and has no compile
//                    cache; one script with a code cache is the fastest start measured (docs/performance.md)
//   vendor-*.js      the large dependencies some commands use (see VENDORED), one file each, required on first use
//   koffi.node       koffi's FFI addon, loaded only when a command first needs a syscall
//   package.json     { "type": "commonjs" }, wherever the directory is installed
//   manifest.json    the version, the sha256 of every other file (doctor checks the installed copy against
//                    it) and the npm packages bundled (the .deb's copyright file lists them)
// The directory is the unit the tests and the Node-run npm package use. The default build also makes from it the
// single executable application dist/sea/ (scripts/build-sea.mjs: Node 24 with the bundle inside, koffi.node
// and manifest.json beside it), which the .deb, the npm platform package and init's installed runtime use.
// dist/lychd-crypt.js is kept as a symbolic link to the entry, for `node dist/lychd-crypt.js` in a checkout
// (Node resolves the link, so main.js is found beside the real file).
// `node scripts/build.mjs [entry outdir]`: the default builds the runtime and the SEA (LYCHD_BUILD_SEA=0: not
// the SEA); given an outdir, the runtime directory only (the tests' builds); tests and packaging may bundle a
// helper, which is built as ES modules (main.mjs and chunks, top-level await allowed) with an entry importing it.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmod, copyFile, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildSea } from './build-sea.mjs';

const ENTRY = 'lychd-crypt.js';
const MAIN = 'main.js';
const ADDON = 'koffi.node';
const MANIFEST = 'manifest.json';

const REPO = path.resolve(import.meta.dirname, '..');
let addonSource;

const nativeBeside = {
  name: 'native-beside',
  setup(b) {
    b.onResolve({ filter: /\.node$/ }, (args) => ({
      path: path.resolve(args.resolveDir, args.path),
      namespace: 'native-beside',
    }));
    b.onLoad({ filter: /.*/, namespace: 'native-beside' }, (args) => {
      const supported = args.path.endsWith(`/linux_${process.arch}/koffi.node`);
      if (!supported) return { contents: 'throw new Error("unsupported platform");', loader: 'js' };
      addonSource = args.path;
      return {
        loader: 'js',
        // main.js (or a helper's chunk) sits beside the entry, so the addon is beside whatever loads it.
        contents: `
const path = require('node:path');
const file = path.join(__lychdDir, ${JSON.stringify(ADDON)});
const mod = { exports: {} };
try { process.dlopen(mod, file); } catch (e) {
  throw new Error('the runtime is incomplete: its native addon ' + file + ' cannot be loaded (' + e.message + '); reinstall it (lychd-crypt repair, or npm run build)');
}
module.exports = mod.exports;
`,
      };
    });
  },
};

// koffi's own index.js picks the addon for the platform, but first loads its installer's helpers, which
// require https, zlib and crypto: Node compiles a dozen internal modules for that on every start. The
// runtime imports the addon itself (koffi.node, beside the chunks): the same functions (load, errno, …)
// without the deprecated aliases koffi's wrapper adds, which nothing here uses.
const koffiDirect = {
  name: 'koffi-direct',
  setup(b) {
    b.onResolve({ filter: /^koffi$/ }, () => ({ path: 'koffi', namespace: 'koffi-direct' }));
    b.onLoad({ filter: /.*/, namespace: 'koffi-direct' }, async () => {
      const dir = path.join(REPO, 'node_modules/koffi');
      const { version } = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
      const addon = path.join(dir, `build/koffi/linux_${process.arch}/koffi.node`);
      return {
        loader: 'js',
        resolveDir: dir,
        contents: `
const native = require(${JSON.stringify(addon)});
if (native.version !== ${JSON.stringify(version)}) throw new Error('the runtime is incomplete: its native addon is koffi ' + native.version + ', not ${version}; reinstall it');
module.exports = native;
`,
      };
    });
  },
};

// Modules a dependency requires as it loads but uses only on a path lychd-crypt rarely or never takes.
// Each costs every start that loads the dependency: Node compiles the built-in's internal modules. Such a
// require resolves to a proxy that loads the module on first use.
const LAZY = [
  // commander: executable subcommands (lychd-crypt has none) — child_process, with net, dgram, streams: ~9 ms.
  { importer: /node_modules\/commander\//, request: /^(node:)?child_process$/ },
  // node-postgres: password authentication (SCRAM, md5) — node:crypto, ~7 ms; peer and trust need none.
  { importer: /node_modules\/pg\/lib\/client\.js$/, request: /^\.\/crypto\/utils$/ },
  { importer: /node_modules\/pg\/lib\/crypto\/sasl\.js$/, request: /^\.\/utils$/ },
];
const lazyRequires = {
  name: 'lazy-requires',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData?.lazy || !LAZY.some((r) => r.importer.test(args.importer) && r.request.test(args.path))) return undefined;
      const builtin = /^(node:)?[a-z_]+$/.test(args.path) && !args.path.startsWith('.');
      const target = builtin ? `node:${args.path.replace(/^node:/, '')}` : (await b.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, pluginData: { lazy: true } })).path;
      return { path: target, namespace: 'lazy-require' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-require' }, (args) => ({
      loader: 'js',
      resolveDir: args.path.startsWith('node:') ? REPO : path.dirname(args.path),
      pluginData: { lazy: true },
      contents: `let m; module.exports = new Proxy({}, { get: (_, k) => (m ??= require(${JSON.stringify(args.path)}))[k] });`,
    }));
  },
};

// node-postgres asks on its first connection whether it runs in a Cloudflare Worker, by constructing a
// `Response`: on Node 20 that global loads undici, Node's fetch, ~40 ms inside the Ritual's preflight. The
// runtime runs on Node only, so the bundled copy answers no without asking. The build fails if the
// function is no longer there, so a new pg cannot silently bring the cost back.
const pgOnNode = {
  name: 'pg-on-node',
  setup(b) {
    b.onLoad({ filter: /node_modules\/pg\/lib\/stream\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const head = 'function isCloudflareRuntime() {';
      if (!text.includes(head)) throw new Error(`${args.path}: ${head} not found; check how pg picks its socket now`);
      return { loader: 'js', contents: text.replace(head, `${head}\n  return false; // lychd-crypt: bundled for Node\n`) };
    });
  },
};

// The large dependencies that only some commands use (init's answers schema and device details, YAML,
// prompts, and execa, which the runner loads when it first starts a process) are each a CommonJS file of
// their own beside main.js, required on first use: a command that does not need them does not read them,
// and main.js (with its code cache) stays the size of lychd-crypt's own code.
// A vendored package another one depends on (@clack/core) is required from its own file by both: one copy.
const VENDORED = ['zod', 'yaml', 'systeminformation', 'execa', '@clack/core', '@clack/prompts'];
const vendorFile = (pkg) => `vendor-${pkg.replace(/^@/, '').replace(/\//g, '-')}.js`;
const vendorBeside = (except) => ({
  name: 'vendor-beside',
  setup(b) {
    const others = VENDORED.filter((p) => p !== except);
    const filter = new RegExp(`^(${others.map((p) => p.replace(/[/.]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter }, (args) => ({ path: `./${vendorFile(args.path)}`, external: true }));
  },
});

// src/base/version.ts imports package.json for its version alone: the bundles carry that field, not the manifest.
const versionOnly = {
  name: 'version-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]package\.json$/ }, async (args) => {
      if (path.resolve(args.path) !== path.join(REPO, 'package.json')) return undefined;
      const { version } = JSON.parse(await readFile(args.path, 'utf8'));
      return { loader: 'json', contents: JSON.stringify({ version }) };
    });
  },
};

const [entry = path.join(REPO, 'src/main.ts'), outdir = path.join(REPO, 'dist/lychd-crypt')] = process.argv.slice(2);
await rm(outdir, { recursive: true, force: true }); // stale files of an earlier build would be listed too
const runtime = path.resolve(entry) === path.join(REPO, 'src/main.ts');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  minify: true,
  keepNames: true, // error classes name themselves (new.target.name), and --json reports that name
  metafile: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  external: ['pg-native'],
  // The systemd unit templates (templates/*.service, *.timer) are bundled as text.
  loader: { '.service': 'text', '.timer': 'text' },
};
const metafiles = [];

if (runtime) {
  // main.js: the whole program but the large dependencies, one CommonJS file loaded through V8's code
  // cache (src/base/bundle/code-cache.ts). Modules reached by `import()` (init, doctor, pg, …) are in it too, each
  // behind a function that runs on its first import: compiled when used, and cached with the command that used it.
  const main = await build({
    ...common,
    entryPoints: [entry],
    outfile: path.join(outdir, MAIN),
    format: 'cjs',
    // Every import() becomes a require: the cached script runs without Node's ES module loader.
    supported: { 'dynamic-import': false },
    define: { 'import.meta.url': '__lychdUrl' },
    plugins: [versionOnly, vendorBeside(null), koffiDirect, lazyRequires, pgOnNode, nativeBeside],
    banner: { js: "const __lychdDir = __dirname, __lychdUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
  metafiles.push(main.metafile);
  for (const pkg of VENDORED) {
    const v = await build({
      ...common,
      stdin: { contents: `module.exports = require(${JSON.stringify(pkg)});`, resolveDir: REPO, loader: 'js' },
      outfile: path.join(outdir, vendorFile(pkg)),
      format: 'cjs',
      plugins: [vendorBeside(pkg)],
    });
    metafiles.push(v.metafile);
  }
  // The entry: src/launch.ts, readable (it is what a reader of the installed directory opens first).
  const launch = await build({ ...common, minify: false, keepNames: false, entryPoints: [path.join(REPO, 'src/launch.ts')], outfile: path.join(outdir, ENTRY), format: 'cjs', plugins: [versionOnly], banner: { js: '#!/usr/bin/env node' } });
  metafiles.push(launch.metafile);
} else {
  // A helper (tests, packaging): ES modules, split, with an entry that imports main.mjs.
  const helper = await build({
    ...common,
    entryPoints: { main: entry },
    outdir,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: '[name]-[hash]',
    format: 'esm',
    plugins: [koffiDirect, lazyRequires, pgOnNode, nativeBeside],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url), __lychdDir = import.meta.dirname;" },
  });
  metafiles.push(helper.metafile);
  await writeFile(path.join(outdir, ENTRY), "#!/usr/bin/env node\nimport('./main.mjs');\n");
}
await chmod(path.join(outdir, ENTRY), 0o755); // only the entry is a program

if (addonSource) await copyFile(addonSource, path.join(outdir, ADDON));
// For looking into what a file holds and who imports what (esbuild's analyzer reads it too).
if (process.env.LYCHD_BUILD_METAFILE) await writeFile(process.env.LYCHD_BUILD_METAFILE, JSON.stringify(metafiles[0]));
// The entry is CommonJS even below a package.json that says "module" (the checkout's own, say).
await writeFile(path.join(outdir, 'package.json'), '{ "type": "commonjs" }\n');
const { version } = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8'));

// Minifying drops esbuild's `// node_modules/<pkg>/…` path comments; packaging lists them from here.
const packages = [...new Set(metafiles.flatMap((m) => Object.keys(m.inputs)).map((p) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(p)?.[1]).filter(Boolean))].sort();
await writeFile(path.join(outdir, MANIFEST), `${JSON.stringify(await manifestOf(outdir, { version, packages }), null, 1)}\n`);

// The checkout's familiar path, when the default runtime was built.
if (path.resolve(outdir) === path.join(REPO, 'dist/lychd-crypt')) {
  const link = path.join(REPO, 'dist/lychd-crypt.js');
  await rm(link, { force: true });
  await symlink(`lychd-crypt/${ENTRY}`, link);
  await rm(path.join(REPO, 'dist/lychd-crypt.koffi.node'), { force: true }); // the single-file layout's
  if (process.env.LYCHD_BUILD_SEA !== '0') await buildSea(REPO, outdir, { manifestOf });
}

/** { version, packages, files: { name: sha256 } } for every file in `dir` but the manifest. */
async function manifestOf(dir, extra) {
  const files = {};
  for (const name of (await readdir(dir)).sort()) {
    if (name === MANIFEST) continue;
    files[name] = createHash('sha256').update(await readFile(path.join(dir, name))).digest('hex');
  }
  return { ...extra, files };
}
