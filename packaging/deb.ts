// Builds lychd-crypt_<version>_<arch>.deb (per architecture: it carries Node.js and koffi's native addon) with
// dpkg-deb from the built single executable and docs (npm run build, npm run build:docs), offline. The package
// depends on no Node.js: the executable is one (docs/packaging.md). The staging tree, in Debian's places:
//   /usr/lib/lychd-crypt/                 the single executable lychd-crypt (Node.js 24 with the bundle inside),
//                                         koffi.node (stripped) and manifest.json; /usr/bin/lychd-crypt → the executable
//   /usr/share/man/man1/lychd-crypt.1.gz, bash, zsh and fish completions, /usr/share/lychd-crypt/ templates,
//   /usr/share/doc/lychd-crypt/{copyright,changelog.gz}: a native package (no Debian revision), whose
//   changelog is made from CHANGELOG.md and named changelog.gz as Debian policy 12.7 asks of native ones;
//   copyright carries Node.js's licence (and its bundled components'), now that Node.js is in the package.
//   /usr/share/lintian/overrides/lychd-crypt: what Node.js's release binary makes lintian say, with why.
// Depends: what dpkg-shlibdeps finds the executable and the addon link, and the tools lychd-crypt runs.
// Run: node scripts/run-ts.mjs packaging/deb.ts [--fast] [OUTDIR]   (default dist/; --fast: gzip -1, for the tests:
// xz -6 of the ~110 MB executable takes about a minute on two busy cores, gzip -1 a few seconds for a larger file; lintian of bookworm reads no zstd)
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { PACKAGED_RUNTIME, SEA_ENTRY } from '../src/base/bundle/packaged.js';
import { computeManifest, MANIFEST, type RuntimeManifest } from '../src/base/bundle/manifest.js';
import { parseChangelog, renderDebianChangelog } from './changelog.js';

export const PACKAGE = 'lychd-crypt';
const ADDON = 'koffi.node';
/** The single executable's build (scripts/build-sea.mjs). */
const SEA_BUILT = 'dist/sea';

/** Debian's name for the architecture koffi's addon was built for. */
export const debArch = (): string => ({ x64: 'amd64', arm64: 'arm64', ia32: 'i386', arm: 'armhf', riscv64: 'riscv64' })[process.arch as string] ?? process.arch;

interface Manifest {
  version: string;
  author: string;
}

/** gzip -9n: no name, no time stamp, so the same input gives the same bytes. */
const gzip = (data: Buffer | string): Buffer => {
  const out = gzipSync(data, { level: 9 });
  out.writeUInt32LE(0, 4); // MTIME
  out[9] = 3; // OS: Unix, as gzip(1) writes it
  return out;
};

function put(root: string, rel: string, data: Buffer | string, mode = 0o644): void {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, data);
  chmodSync(file, mode);
}

/** The npm packages esbuild bundled (the runtime's manifest lists them), with license. */
export function bundledPackages(names: string[], nodeModules: string): string[] {
  return [...names].sort().map((name) => {
    const pkg = JSON.parse(readFileSync(path.join(nodeModules, name, 'package.json'), 'utf8')) as { version: string; license?: string };
    return `${name} ${pkg.version} (${pkg.license ?? 'see its package'})`;
  });
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? [p, ...walk(p)] : [p];
  });
}

/**
 * The shared libraries the native files link, as Depends (dpkg-shlibdeps: the C and C++ runtimes at the symbol
 * versions they need, e.g. `libc6 (>= 2.34), libgcc-s1 (>= 3.4), libstdc++6 (>= 10.2)`). It wants a
 * debian/control to read: a minimal one in a scratch directory. Its warnings (koffi's addon takes its N-API
 * symbols from the executable that loads it) are not shown.
 */
export async function sharedLibraryDepends(files: string[]): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-crypt-shlibdeps-'));
  try {
    put(dir, 'debian/control', `Source: ${PACKAGE}\n\nPackage: ${PACKAGE}\nArchitecture: any\n`);
    const { stdout } = await execa('dpkg-shlibdeps', ['-O', ...files], { cwd: dir, stderr: 'pipe' });
    const depends = /^shlibs:Depends=(.+)$/m.exec(stdout)?.[1];
    if (!depends) throw new Error(`dpkg-shlibdeps found no dependencies for ${files.join(', ')}: ${stdout}`);
    return depends;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Node.js's licence text as a DEP-5 paragraph body: every line indented, empty ones a lone dot. */
export const dep5Text = (text: string): string =>
  text
    .replace(/\s+$/, '')
    .split('\n')
    .map((l) => (l.trim() === '' ? ' .' : ` ${l.replace(/\s+$/, '')}`))
    .join('\n');

/** Lays out the package tree under `stage` from the repository's built files. */
export async function stageDeb(repo: string, stage: string): Promise<{ version: string; arch: string }> {
  const arch = debArch();
  const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as Manifest;
  const built = path.join(repo, SEA_BUILT);
  if (!existsSync(path.join(built, SEA_ENTRY))) throw new Error(`${SEA_BUILT}/${SEA_ENTRY} is missing: run npm run build first`);
  const manifest = JSON.parse(readFileSync(path.join(built, MANIFEST), 'utf8')) as RuntimeManifest;
  const releases = parseChangelog(readFileSync(path.join(repo, 'CHANGELOG.md'), 'utf8'));
  if (releases[0]!.version !== pkg.version) throw new Error(`CHANGELOG.md's newest entry is ${releases[0]!.version}, package.json says ${pkg.version}`);
  for (const f of ['dist/man/lychd-crypt.1', 'dist/completion/lychd-crypt', 'dist/completion/_lychd-crypt', 'dist/completion/lychd-crypt.fish']) {
    if (!existsSync(path.join(repo, f))) throw new Error(`${f} is missing: run npm run build:docs first`);
  }
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true, mode: 0o755 });

  // The single executable and the addon, stripped as dh_strip would (the executable was stripped before
  // its blob went in: stripping it now would drop the blob's note); the manifest made again for the addon.
  const runtimeDir = path.join(stage, path.dirname(PACKAGED_RUNTIME));
  for (const name of Object.keys(manifest.files)) {
    put(runtimeDir, name, readFileSync(path.join(built, name)), name === SEA_ENTRY ? 0o755 : 0o644);
    if (name === ADDON) await execa('strip', ['--strip-unneeded', '--remove-section=.comment', '--remove-section=.note', path.join(runtimeDir, name)]);
  }
  put(runtimeDir, MANIFEST, `${JSON.stringify(await computeManifest(runtimeDir, manifest.version, manifest.packages, { node: manifest.node }), null, 1)}\n`);
  mkdirSync(path.join(stage, 'usr/bin'), { recursive: true });
  symlinkSync(path.relative('/usr/bin', PACKAGED_RUNTIME), path.join(stage, 'usr/bin', PACKAGE));
  put(stage, 'usr/share/man/man1/lychd-crypt.1.gz', gzip(readFileSync(path.join(repo, 'dist/man/lychd-crypt.1'))));
  put(stage, 'usr/share/bash-completion/completions/lychd-crypt', readFileSync(path.join(repo, 'dist/completion/lychd-crypt')));
  put(stage, 'usr/share/zsh/vendor-completions/_lychd-crypt', readFileSync(path.join(repo, 'dist/completion/_lychd-crypt')));
  put(stage, 'usr/share/fish/vendor_completions.d/lychd-crypt.fish', readFileSync(path.join(repo, 'dist/completion/lychd-crypt.fish')));
  for (const t of readdirSync(path.join(repo, 'templates')).sort()) {
    put(stage, `usr/share/${PACKAGE}/${t}`, readFileSync(path.join(repo, 'templates', t)));
  }
  const doc = `usr/share/doc/${PACKAGE}`;
  const bundled = bundledPackages(manifest.packages, path.join(repo, 'node_modules'));
  const nodeLicense = readFileSync(path.join(repo, 'packaging/sea-node/node_modules', `node-linux-${process.arch}`, 'LICENSE'), 'utf8');
  put(
    stage,
    `${doc}/copyright`,
    readFileSync(path.join(repo, 'packaging/debian/copyright.in'), 'utf8')
      .replace('@BUNDLED@', bundled.map((b) => ` ${b}`).join('\n'))
      .replace('@NODE_VERSION@', manifest.node ?? '')
      .replace('@NODE_LICENSE@', dep5Text(nodeLicense)),
  );
  put(stage, `usr/share/lintian/overrides/${PACKAGE}`, readFileSync(path.join(repo, 'packaging/debian/lintian-overrides')));
  put(stage, `${doc}/changelog.gz`, gzip(renderDebianChangelog(releases, PACKAGE, pkg.author)));
  put(stage, `${doc}/README.md`, readFileSync(path.join(repo, 'README.md')));

  // Control area: control, md5sums, and the maintainer scripts (which change nothing by themselves).
  const files = walk(stage).filter((p) => !lstatSync(p).isDirectory());
  const md5sums = files
    .filter((p) => lstatSync(p).isFile())
    .map((p) => `${createHash('md5').update(readFileSync(p)).digest('hex')}  ${path.relative(stage, p)}`)
    .sort((a, b) => a.slice(34).localeCompare(b.slice(34)))
    .join('\n');
  // Installed-Size as dpkg-gencontrol counts it: KiB per file rounded up, one per directory and symlink.
  const installedSize = walk(stage).reduce((kib, p) => {
    const st = lstatSync(p);
    return kib + (st.isFile() ? Math.ceil(st.size / 1024) : 1);
  }, 0);
  const control = readFileSync(path.join(repo, 'packaging/debian/control.in'), 'utf8')
    .replace('@VERSION@', pkg.version)
    .replace('@ARCH@', arch)
    .replace('@SHLIBS@', await sharedLibraryDepends([path.join(runtimeDir, SEA_ENTRY), path.join(runtimeDir, ADDON)]))
    .replace('@MAINTAINER@', pkg.author)
    .replace('@INSTALLED_SIZE@', String(installedSize));
  put(stage, 'DEBIAN/control', control);
  put(stage, 'DEBIAN/md5sums', `${md5sums}\n`);
  for (const script of ['postinst', 'postrm']) cpSync(path.join(repo, 'packaging/debian', script), path.join(stage, 'DEBIAN', script));
  for (const script of ['postinst', 'postrm']) chmodSync(path.join(stage, 'DEBIAN', script), 0o755);
  for (const dir of walk(stage).filter((p) => lstatSync(p).isDirectory())) chmodSync(dir, 0o755);
  chmodSync(stage, 0o755);
  return { version: pkg.version, arch };
}

/** Stages and builds the .deb into outDir; returns its path. `fast`: gzip -1 instead of xz -6 (the tests). */
export async function buildDeb(repo: string, outDir: string, { fast = false }: { fast?: boolean } = {}): Promise<string> {
  const stage = path.join(outDir, 'deb-root');
  const { version, arch } = await stageDeb(repo, stage);
  const deb = path.join(outDir, `${PACKAGE}_${version}_${arch}.deb`);
  const epoch = String(Math.floor(Date.parse(`${parseChangelog(readFileSync(path.join(repo, 'CHANGELOG.md'), 'utf8'))[0]!.date}T12:00:00Z`) / 1000));
  try {
    // --root-owner-group: every file root:root without fakeroot; SOURCE_DATE_EPOCH: reproducible mtimes.
    await execa('dpkg-deb', ['--root-owner-group', ...(fast ? ['-Zgzip', '-z1'] : ['-Zxz', '-z6']), '--build', stage, deb], { env: { SOURCE_DATE_EPOCH: epoch }, stdout: 'ignore' });
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  return deb;
}

export async function main(args: string[]): Promise<void> {
  const fast = args.includes('--fast');
  const outDir = path.resolve(args.find((a) => a !== '--fast') ?? 'dist');
  const deb = await buildDeb(process.cwd(), outDir, { fast });
  process.stderr.write(`built ${path.relative(process.cwd(), deb)} (${Math.round(lstatSync(deb).size / 1024)} KiB)\n`);
}
