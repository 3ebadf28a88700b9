// PROTOTYPE for issue 26 (measurement only; not the product, not built by `npm run build`): the main script
// of a single executable application (SEA) made from the built runtime directory dist/lychd-crypt/. main.js and
// the vendor-*.js files are the SEA's assets (or, when building a startup snapshot, read from
// LYCHD_SEA_DIST at build time); each is evaluated as a CommonJS module whose `require` serves the vendored
// files from the assets and Node's built-in modules. koffi.node is loaded from beside the binary
// (main.js's addon loader joins __lychdDir and koffi.node; here __lychdDir is made a function of
// process.execPath, so a snapshot taken at build time does not freeze the build's path into the heap).
// Modes (LYCHD_SEA_MODE at build time, baked into the blob through the source text by build.mjs):
//   plain      compile main.js at every start
//   codecache  compile main.js with a V8 code cache kept in LYCHD_CRYPT_COMPILE_CACHE (written at exit,
//              like src/base/bundle/code-cache.ts but without its trust checks: a prototype)
//   snapshot   evaluate main.js and the vendored files while building, into V8's startup snapshot
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const v8 = require('node:v8');
const vm = require('node:vm');
const MODE = '@MODE@';
const PRELOAD = '@PRELOAD@'.split(',').filter(Boolean);
// A function: a value computed while the snapshot is built would be frozen into it (true ever after).
const building = () => v8.startupSnapshot?.isBuildingSnapshot?.() ?? false;
const builtin = require; // in a SEA (and a snapshot's entry) `require` serves built-in modules only

const source = (name) => (building() ? fs.readFileSync(path.join(process.env.LYCHD_SEA_DIST, name), 'utf8') : require('node:sea').getAsset(name, 'utf8'));
const dir = () => path.dirname(process.execPath);
const modules = new Map();

function load(name, { cache } = {}) {
  if (modules.has(name)) return modules.get(name).exports;
  let text = source(name);
  if (name === 'main.js') {
    // The build's banner evaluates __dirname/__filename once at the top: made lazy, see the top.
    text = text
      .replace(/^const __lychdDir = __dirname, __lychdUrl = [^;]*;/, "const __lychdDirF = () => require('node:path').dirname(process.execPath), __lychdUrlF = () => require('node:url').pathToFileURL(require('node:path').join(__lychdDirF(), 'main.js')).href;")
      .replaceAll('__lychdDir,', '__lychdDirF(),')
      .replace(/__lychdUrl(?!F)/g, '__lychdUrlF()');
  }
  const file = path.join(building() ? '/usr/lib/lychd-crypt' : dir(), name);
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${text}\n})`;
  let fn;
  if (cache) {
    const cacheFile = path.join(cache, `sea-${name}-${process.version}-${fs.statSync(process.execPath).mtimeMs}.v8cache`);
    let cachedData;
    try { cachedData = fs.readFileSync(cacheFile); } catch {}
    const script = new vm.Script(wrapped, { filename: file, cachedData });
    if (!cachedData || script.cachedDataRejected) process.once('exit', () => { try { fs.writeFileSync(cacheFile, script.createCachedData()); } catch {} });
    fn = script.runInThisContext();
  } else {
    fn = (0, eval)(wrapped); // plain V8: nothing of node:vm's in a snapshot's heap
  }
  const mod = { exports: {} };
  modules.set(name, mod);
  const req = (id) => (id.startsWith('./') ? load(id.slice(2)) : builtin(id));
  fn.call(mod.exports, mod.exports, req, mod, file, path.dirname(file));
  return mod.exports;
}

function run(preloaded) {
  const argv = process.argv.slice(2);
  if (argv.length === 1 && argv[0] === '--version') {
    process.stdout.write('@VERSION@\n');
    return;
  }
  const m = preloaded ?? load('main.js', { cache: MODE === 'codecache' ? process.env.LYCHD_CRYPT_COMPILE_CACHE : undefined });
  void m.main(argv).then((code) => {
    process.exitCode = code;
  });
}

if (building()) {
  const main = load('main.js');
  for (const name of PRELOAD) load(name);
  v8.startupSnapshot.setDeserializeMainFunction(() => run(main));
} else run(undefined);
