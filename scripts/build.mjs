// Bundles the CLI into one file, dist/lychd-crypt.js, that runs with plain `node`.
// koffi ships its FFI engine as a .node addon; we embed the linux binary and load it from a
// private temp file at first use, so the runtime stays a single file.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

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
      const b64 = (await readFile(args.path)).toString('base64');
      return {
        loader: 'js',
        contents: `
const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
const bytes = Buffer.from(${JSON.stringify(b64)}, 'base64');
let lastError;
for (const base of [os.tmpdir(), '/run', '/dev/shm']) {
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

await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: false,
  sourcemap: false,
  legalComments: 'none',
  external: ['pg-native'],
  plugins: [embedNative],
  // The systemd unit templates (templates/*.service, *.timer) are bundled as text.
  loader: { '.service': 'text', '.timer': 'text' },
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: 'warning',
});
