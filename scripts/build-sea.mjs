// Builds the single executable application (SEA) from the runtime directory scripts/build.mjs wrote:
//   dist/sea/lychd-crypt     upstream Node.js (packaging/sea-node: node-linux-<arch>, Node 24 LTS), stripped,
//                            with a blob injected by postject: the entry lychd-crypt.js as its main script, and
//                            main.js and the vendor-*.js files as assets that the entry compiles through the
//                            on-disk V8 code cache (src/base/bundle/code-cache.ts); no startup snapshot
//                            (docs/packaging.md says why)
//   dist/sea/koffi.node      koffi's addon, found beside the executable
//   dist/sea/manifest.json   as the directory's: version, bundled packages, the sha256 of the two files, and the Node inside
// The blob is made by the very Node that runs it (a blob is tied to its Node version), never the host's node.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const SEA_DIR = 'dist/sea';
export const SEA_ENTRY = 'lychd-crypt';
// The fuse postject flips so the Node binary looks for its blob (Node's documentation, "Single executable applications").
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** The files of the runtime directory that travel inside the executable. */
export const seaAssets = (names) => names.filter((n) => n === 'main.js' || /^vendor-[a-z0-9-]+\.js$/.test(n)).sort();

/** The SEA configuration for the runtime directory `dir` (its files `names`), the blob written to `blob`. */
export function seaConfig(dir, names, blob) {
  return {
    main: path.join(dir, 'lychd-crypt.js'),
    output: blob,
    disableExperimentalSEAWarning: true,
    // V8's code cache of the entry itself (small); main.js has the on-disk cache, which also holds what a command ran.
    useCodeCache: true,
    useSnapshot: false,
    // Neither NODE_OPTIONS nor a command line option reaches the Node inside: root runs this executable, and a
    // `--require` from the environment would be code root runs (SPEC section 8).
    execArgvExtension: 'none',
    assets: Object.fromEntries(seaAssets(names).map((n) => [n, path.join(dir, n)])),
  };
}

/** The Node to embed: the pinned upstream binary of this architecture (packaging/sea-node), or why there is none. */
export function seaNode(repo, arch = process.arch) {
  const bin = path.join(repo, 'packaging/sea-node/node_modules', `node-linux-${arch}`, 'bin/node');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm ci --prefix packaging/sea-node\` (scripts/setup.sh does), on linux x64 or arm64`);
  return bin;
}

/** Runs argv, saying what it printed only when it fails. */
function quiet(cmd, args, cwd) {
  try {
    execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr ?? ''}${e.stdout ?? ''}`);
  }
}

/** Builds `<repo>/dist/sea/` from the runtime directory `dir`; returns the executable's path. */
export async function buildSea(repo, dir, { manifestOf, out = path.join(repo, SEA_DIR) } = {}) {
  const node = seaNode(repo);
  const work = path.join(path.dirname(out), '.sea-work');
  rmSync(out, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  mkdirSync(work, { recursive: true });
  try {
    const config = seaConfig(dir, readdirSync(dir), path.join(work, 'sea.blob'));
    writeFileSync(path.join(work, 'sea-config.json'), JSON.stringify(config, null, 1));
    quiet(node, ['--experimental-sea-config', path.join(work, 'sea-config.json')], work);
    const bin = path.join(out, SEA_ENTRY);
    copyFileSync(node, bin);
    chmodSync(bin, 0o755);
    // Stripped first (as dh_strip would: Node's release binary carries its symbols, 127 → 111 MB): stripping
    // after the injection would drop the note postject adds.
    quiet('strip', ['--strip-all', bin], work); // it warns about the notes of Node's binary it keeps
    // postject's CLI in a process of its own: its LIEF warns on stderr about every note of Node's binary.
    const postject = createRequire(path.join(repo, 'packaging/sea-node/package.json')).resolve('postject/dist/cli.js');
    quiet(process.execPath, [postject, bin, 'NODE_SEA_BLOB', config.output, '--sentinel-fuse', FUSE], work);
    copyFileSync(path.join(dir, 'koffi.node'), path.join(out, 'koffi.node'));
    const { version, packages } = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    const nodeVersion = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    writeFileSync(path.join(out, 'manifest.json'), `${JSON.stringify(await manifestOf(out, { version, packages, node: nodeVersion }), null, 1)}\n`);
    return bin;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
