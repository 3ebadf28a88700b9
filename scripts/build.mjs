// Builds the runtime as a directory, dist/lychd-crypt/, that runs with plain `node`:
//   lychd-crypt.js   the entry, CommonJS: answers `--version` itself, else imports main.mjs. Node 20 starts
//                    its ES module loader only for the first import, and that costs ~13 ms: `--version`
//                    (doctor and scripts ask it often) stays within a few ms of `node -e 0`
//   main.mjs         src/main.ts: parses the command line (commander) and nothing else
//   <name>-<hash>.mjs the chunks: each command's code, loaded by `import()` only when that command runs
//   koffi.node       koffi's FFI addon, loaded only when a command first needs a syscall
//   package.json     { "type": "commonjs" }: the entry is CommonJS wherever the directory is installed
//                    (the chunks say what they are by their extension)
//   manifest.json    the version, the sha256 of every other file (doctor checks the installed copy against
//                    it) and the npm packages bundled (the .deb's copyright file lists them)
// esbuild splits the code (ESM) so `--version` and `--help` parse a few hundred kB, not the whole program;
// the chunks are minified. The directory is the unit init, the npm package and the .deb install.
// dist/lychd-crypt.js is kept as a symbolic link to the entry, for `node dist/lychd-crypt.js` in a checkout
// (Node resolves the link, so the chunks are found beside the real file).
// `node scripts/build.mjs [entry outdir]`: the default builds the runtime; tests may bundle helpers.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmod, copyFile, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

const ENTRY = 'lychd-crypt.js';
const MAIN = 'main';
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
        // Every chunk sits beside the entry, so the addon is beside whichever chunk loads it.
        contents: `
const path = require('node:path'), url = require('node:url');
const file = path.join(path.dirname(url.fileURLToPath(__lychdUrl)), ${JSON.stringify(ADDON)});
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

const [entry = path.join(REPO, 'src/main.ts'), outdir = path.join(REPO, 'dist/lychd-crypt')] = process.argv.slice(2);
await rm(outdir, { recursive: true, force: true }); // stale chunks of an earlier build would be listed too

const result = await build({
  entryPoints: { [MAIN]: entry },
  outdir,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: '[name]-[hash]',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  keepNames: true, // error classes name themselves (new.target.name), and --json reports that name
  metafile: true,
  sourcemap: false,
  legalComments: 'none',
  external: ['pg-native'],
  plugins: [koffiDirect, lazyRequires, pgOnNode, nativeBeside],
  // The systemd unit templates (templates/*.service, *.timer) are bundled as text.
  loader: { '.service': 'text', '.timer': 'text' },
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url), __lychdUrl = import.meta.url;",
  },
  logLevel: 'warning',
});

if (addonSource) await copyFile(addonSource, path.join(outdir, ADDON));
// For looking into what a chunk holds and who imports what (esbuild's analyzer reads it too).
if (process.env.LYCHD_BUILD_METAFILE) await writeFile(process.env.LYCHD_BUILD_METAFILE, JSON.stringify(result.metafile));
// The entry is CommonJS even below a package.json that says "module" (the checkout's own, say).
await writeFile(path.join(outdir, 'package.json'), '{ "type": "commonjs" }\n');
const { version } = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8'));
// Only the entry is a program: the shebang and the mode are its alone (the chunks are modules it imports).
// The runtime's answers `--version` (what src/main.ts answers too, from the same package.json) without
// loading main.mjs; a helper bundle (tests, packaging) just runs its main.
const runtime = path.resolve(entry) === path.join(REPO, 'src/main.ts');
const entryFile = path.join(outdir, ENTRY);
await writeFile(
  entryFile,
  [
    '#!/usr/bin/env node',
    "'use strict';",
    ...(runtime ? [`if (process.argv.length === 3 && process.argv[2] === '--version') process.stdout.write(${JSON.stringify(`${version}
`)});`, 'else '] : []),
    `import('./${MAIN}.mjs');`,
    '',
  ].join('\n').replace("\nelse \n", '\nelse '),
  { mode: 0o755 },
);
await chmod(entryFile, 0o755);

// Minifying drops esbuild's `// node_modules/<pkg>/…` path comments; packaging lists them from here.
const packages = [...new Set(Object.keys(result.metafile.inputs).map((p) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(p)?.[1]).filter(Boolean))].sort();
await writeFile(path.join(outdir, MANIFEST), `${JSON.stringify(await manifestOf(outdir, { version, packages }), null, 1)}\n`);

// The checkout's familiar path, when the default runtime was built.
if (path.resolve(outdir) === path.join(REPO, 'dist/lychd-crypt')) {
  const link = path.join(REPO, 'dist/lychd-crypt.js');
  await rm(link, { force: true });
  await symlink(`lychd-crypt/${ENTRY}`, link);
  await rm(path.join(REPO, 'dist/lychd-crypt.koffi.node'), { force: true }); // the single-file layout's
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
