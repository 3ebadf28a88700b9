// Bundles the CLI into one file, dist/lychd-crypt.js, that runs with plain `node`.
// koffi ships its FFI engine as a .node addon. The build writes it beside the bundle as
// `lychd-crypt.koffi.node` (init and the .deb install it beside the runtime), and the bundle loads it
// from there, only when a command first needs a syscall. Unless EMBED_KOFFI=0, the bundle also carries
// the addon (base64) as a fallback for a runtime copied alone: decoded into a private temp file only then.
// The bundle is minified; its start evaluates only what the command needs (test/unit/startup.test.ts).
import { build } from 'esbuild';
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';

export const ADDON = 'lychd-crypt.koffi.node';
const embed = process.env.EMBED_KOFFI !== '0';
let addonSource;

const embedNative = {
  name: 'embed-native',
  setup(b) {
    b.onResolve({ filter: /\.node$/ }, (args) => ({
      path: path.resolve(args.resolveDir, args.path),
      namespace: 'embed-native',
    }));
    b.onLoad({ filter: /.*/, namespace: 'embed-native' }, async (args) => {
      const supported = args.path.endsWith(`/linux_${process.arch}/koffi.node`);
      if (!supported) return { contents: 'throw new Error("unsupported platform");', loader: 'js' };
      addonSource = args.path;
      const b64 = embed ? (await readFile(args.path)).toString('base64') : '';
      return {
        loader: 'js',
        contents: `
const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
const url = require('node:url');
// Beside the runtime (symlinks resolved, as Node resolves the main module's).
const beside = path.join(path.dirname(url.fileURLToPath(__lychdUrl)), ${JSON.stringify(ADDON)});
let loaded = false;
if (fs.existsSync(beside)) {
  const mod = { exports: {} };
  process.dlopen(mod, beside);
  module.exports = mod.exports;
  loaded = true;
}
const b64 = ${JSON.stringify(b64)};
if (!loaded && !b64) throw new Error('the native addon ' + beside + ' is missing: reinstall the runtime (lychd-crypt repair)');
const bytes = loaded ? null : Buffer.from(b64, 'base64');
let lastError;
for (const base of loaded ? [] : [os.tmpdir(), '/run', '/dev/shm']) {
  let dir;
  try {
    dir = fs.mkdtempSync(path.join(base, 'lychd-crypt-'));
    const file = path.join(dir, 'koffi.node');
    fs.writeFileSync(file, bytes, { mode: 0o500 });
    const mod = { exports: {} };
    process.dlopen(mod, file);
    module.exports = mod.exports;
    lastError = undefined;
    break;
  } catch (e) { lastError = e; } finally { if (dir) fs.rmSync(dir, { recursive: true, force: true }); }
}
if (lastError) throw lastError;
`,
      };
    });
  },
};

// `node scripts/build.mjs [entry outfile]`: the default builds the runtime; tests may bundle helpers.
const [entry = 'src/main.ts', outfile = 'dist/lychd-crypt.js'] = process.argv.slice(2);
// Opt-in, not yet installed by init or the .deb: SPLIT=1 writes the commands' code as chunks in
// lychd-crypt.lib/ beside the entry, so a start parses only what its command imports (issue 16).
const split = process.env.SPLIT === '1';

const result = await build({
  entryPoints: [entry],
  ...(split ? { outdir: path.dirname(outfile), entryNames: path.basename(outfile, '.js'), splitting: true, chunkNames: 'lychd-crypt.lib/[name]-[hash]' } : { outfile }),
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
  plugins: [embedNative],
  // The systemd unit templates (templates/*.service, *.timer) are bundled as text.
  loader: { '.service': 'text', '.timer': 'text' },
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url), __lychdUrl = import.meta.url;",
  },
  logLevel: 'warning',
});

// The addon beside the bundle, where the bundle looks first.
if (addonSource) await copyFile(addonSource, path.join(path.dirname(outfile), ADDON));

// Minifying drops esbuild's `// node_modules/<pkg>/…` path comments; packaging (the .deb's copyright
// file) lists the bundled packages from them, so they are appended as plain comments, one a package.
const packages = new Set(Object.keys(result.metafile.inputs).map((p) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(p)?.[1]).filter(Boolean));
if (packages.size && !split) {
  const { appendFile } = await import('node:fs/promises');
  await appendFile(outfile, `\n// bundled packages:\n${[...packages].sort().map((p) => `// node_modules/${p}/\n`).join('')}`);
}
