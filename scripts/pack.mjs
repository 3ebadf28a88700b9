#!/usr/bin/env node
// `npm run package:npm [-- OUTDIR]` (default dist/): the two npm tarballs, staged in dist/npm/ and packed with npm pack:
//   lychd-crypt-<version>.tgz               the Node-run runtime directory (npm users have Node.js 20.12+), the man
//                                           page, completions, templates; its command (bin/lychd-crypt) runs the
//                                           single executable of the platform package when npm installed that
//   lychd-crypt-linux-<arch>-<version>.tgz  the single executable (Node.js 24 with the bundle inside), koffi.node,
//                                           manifest.json: an optional dependency of the first, `os`/`cpu` set, so
//                                           npm installs it only where it runs (esbuild's platform packages work so)
// The repository's own package.json is the development project (it cannot list the platform package: `npm ci`
// would then look for it), so both are staged here, from it. Run after `npm run build` and `npm run build:docs`
// (the script `package:npm` does both first).
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '..');
const STAGE = path.join(REPO, 'dist/npm');
// npm's names for the architectures a platform package can be built for (packaging/sea-node has their Node).
export const PLATFORMS = ['x64', 'arm64'];
export const platformPackage = (arch) => `lychd-crypt-linux-${arch}`;

/** The main package's manifest, made from the repository's. */
export function mainManifest(repo) {
  const { name, version, description, license, author, engines } = repo;
  return {
    name,
    version,
    description,
    license,
    author,
    private: true, // until someone decides to publish to a registry
    bin: { 'lychd-crypt': 'bin/lychd-crypt' },
    man: ['./dist/man/lychd-crypt.1'],
    files: ['bin/', 'dist/lychd-crypt/', 'dist/man/', 'dist/completion/', 'templates/', 'CHANGELOG.md'],
    engines,
    // Each only where it runs (its os and cpu); a failed or skipped one leaves the Node-run runtime in charge.
    optionalDependencies: Object.fromEntries(PLATFORMS.map((a) => [platformPackage(a), version])),
  };
}

/** The platform package's manifest: the single executable for `arch`. */
export function platformManifest(repo, arch, node) {
  const { version, license, author } = repo;
  return {
    name: platformPackage(arch),
    version,
    description: `lychd-crypt as a single executable for Linux ${arch} (Node.js ${node} inside); installed by the lychd-crypt package`,
    license: `${license} AND Node.js`,
    author,
    private: true,
    os: ['linux'],
    cpu: [arch],
    files: ['lychd-crypt', 'koffi.node', 'manifest.json', 'LICENSE', 'LICENSE.node', 'README.md'],
  };
}

// The main package's command: a shell script, so that starting the single executable costs no Node.js start.
const LAUNCHER = `#!/bin/sh
# lychd-crypt's command from npm: the single executable of the platform package (lychd-crypt-linux-<arch>, an
# optional dependency) when npm installed it beside this package or inside it, else the runtime on this node.
here=$(dirname "$(readlink -f "$0")")/..
case $(uname -m) in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) arch=none ;; esac
for sea in "$here/node_modules/lychd-crypt-linux-$arch/lychd-crypt" "$here/../lychd-crypt-linux-$arch/lychd-crypt"; do
  if [ -x "$sea" ]; then exec "$sea" "$@"; fi
done
exec node "$here/dist/lychd-crypt/lychd-crypt.js" "$@"
`;

const put = (file, text, mode = 0o644) => {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  chmodSync(file, mode);
};
const copy = (from, to) => cpSync(path.join(REPO, from), to, { recursive: true });
const npmPack = (dir, out) => JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }))[0].filename;

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = path.resolve(process.argv[2] ?? path.join(REPO, 'dist'));
  const repo = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  rmSync(STAGE, { recursive: true, force: true });

  const main = path.join(STAGE, 'lychd-crypt');
  put(path.join(main, 'package.json'), `${JSON.stringify(mainManifest(repo), null, 2)}\n`);
  put(path.join(main, 'bin/lychd-crypt'), LAUNCHER, 0o755);
  for (const f of ['dist/lychd-crypt', 'dist/man', 'dist/completion', 'templates', 'README.md', 'LICENSE', 'CHANGELOG.md']) copy(f, path.join(main, f));

  const arch = process.arch;
  const sea = path.join(STAGE, platformPackage(arch));
  const { node } = JSON.parse(readFileSync(path.join(REPO, 'dist/sea/manifest.json'), 'utf8'));
  put(path.join(sea, 'package.json'), `${JSON.stringify(platformManifest(repo, arch, node), null, 2)}\n`);
  for (const f of ['lychd-crypt', 'koffi.node', 'manifest.json']) copy(`dist/sea/${f}`, path.join(sea, f));
  copy('LICENSE', path.join(sea, 'LICENSE'));
  copy(`packaging/sea-node/node_modules/node-linux-${arch}/LICENSE`, path.join(sea, 'LICENSE.node'));
  put(path.join(sea, "README.md"), `# ${platformPackage(arch)}\n\nThe single executable of lychd-crypt for Linux ${arch}: Node.js ${node} with lychd-crypt inside. Install \`lychd-crypt\`; it uses this package when npm installed it.\n`);

  mkdirSync(out, { recursive: true });
  for (const dir of [main, sea]) process.stdout.write(`${path.join(out, npmPack(dir, out))}\n`);
}
