// Builds lychd-crypt_<version>_<arch>.deb (per architecture: it carries koffi's native addon) with dpkg-deb from the built runtime and docs (npm run build,
// npm run build:docs), offline. The staging tree, in Debian's places:
//   /usr/lib/lychd-crypt/                 the runtime directory: the entry lychd-crypt.js (shebang /usr/bin/node),
//                                         main.js, vendor-*.js, koffi.node and manifest.json; /usr/bin/lychd-crypt → the entry
//   /usr/share/man/man1/lychd-crypt.1.gz, bash, zsh and fish completions, /usr/share/lychd-crypt/ templates,
//   /usr/share/doc/lychd-crypt/{copyright,changelog.gz}: a native package (no Debian revision), whose
//   changelog is made from CHANGELOG.md and named changelog.gz as Debian policy 12.7 asks of native ones.
// Run: node scripts/run-ts.mjs packaging/deb.ts [OUTDIR]   (default dist/)
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { PACKAGED_RUNTIME, RUNTIME_ENTRY } from '../src/base/bundle/packaged.js';
import { computeManifest, MANIFEST, type RuntimeManifest } from '../src/base/bundle/manifest.js';
import { parseChangelog, renderDebianChangelog } from './changelog.js';

export const PACKAGE = 'lychd-crypt';
const ADDON = 'koffi.node';
// What koffi.node links (ldd): the C and C++ runtimes, at the versions its symbols need.
const SHLIBS = 'libc6 (>= 2.17), libgcc-s1 (>= 3.0), libstdc++6 (>= 6)'; // GLIBC_2.17, GLIBCXX_3.4.22 (objdump -T)

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

/** Lays out the package tree under `stage` from the repository's built files. */
export async function stageDeb(repo: string, stage: string): Promise<{ version: string; arch: string }> {
  const arch = debArch();
  const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as Manifest;
  const built = path.join(repo, 'dist/lychd-crypt');
  const manifest = JSON.parse(readFileSync(path.join(built, MANIFEST), 'utf8')) as RuntimeManifest;
  const releases = parseChangelog(readFileSync(path.join(repo, 'CHANGELOG.md'), 'utf8'));
  if (releases[0]!.version !== pkg.version) throw new Error(`CHANGELOG.md's newest entry is ${releases[0]!.version}, package.json says ${pkg.version}`);
  for (const f of ['dist/man/lychd-crypt.1', 'dist/completion/lychd-crypt', 'dist/completion/_lychd-crypt', 'dist/completion/lychd-crypt.fish']) {
    if (!existsSync(path.join(repo, f))) throw new Error(`${f} is missing: run npm run build:docs first`);
  }
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true, mode: 0o755 });

  // Debian's nodejs (and NodeSource's) install /usr/bin/node; policy 10.4 wants no `env` lookup.
  // The entry's first line changes, so the manifest is made again for what is installed.
  const runtimeDir = path.join(stage, path.dirname(PACKAGED_RUNTIME));
  for (const name of Object.keys(manifest.files)) {
    const data = readFileSync(path.join(built, name));
    if (name === ADDON) {
      // koffi's addon is native code: stripped as dh_strip would, and the package is therefore per architecture.
      put(runtimeDir, name, data);
      await execa('strip', ['--strip-unneeded', '--remove-section=.comment', '--remove-section=.note', path.join(runtimeDir, name)]);
    } else if (name === RUNTIME_ENTRY) put(runtimeDir, name, data.toString('utf8').replace(/^#!\/usr\/bin\/env node\n/, '#!/usr/bin/node\n'), 0o755);
    else put(runtimeDir, name, data);
  }
  put(runtimeDir, MANIFEST, `${JSON.stringify(await computeManifest(runtimeDir, manifest.version, manifest.packages), null, 1)}\n`);
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
  put(stage, `${doc}/copyright`, readFileSync(path.join(repo, 'packaging/debian/copyright.in'), 'utf8').replace('@BUNDLED@', bundled.map((b) => ` ${b}`).join('\n')));
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
    .replace('@SHLIBS@', SHLIBS)
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

/** Stages and builds the .deb into outDir; returns its path. */
export async function buildDeb(repo: string, outDir: string): Promise<string> {
  const stage = path.join(outDir, 'deb-root');
  const { version, arch } = await stageDeb(repo, stage);
  const deb = path.join(outDir, `${PACKAGE}_${version}_${arch}.deb`);
  const epoch = String(Math.floor(Date.parse(`${parseChangelog(readFileSync(path.join(repo, 'CHANGELOG.md'), 'utf8'))[0]!.date}T12:00:00Z`) / 1000));
  try {
    // --root-owner-group: every file root:root without fakeroot; SOURCE_DATE_EPOCH: reproducible mtimes.
    await execa('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, deb], { env: { SOURCE_DATE_EPOCH: epoch }, stdout: 'ignore' });
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  return deb;
}

export async function main(args: string[]): Promise<void> {
  const outDir = path.resolve(args[0] ?? 'dist');
  const deb = await buildDeb(process.cwd(), outDir);
  process.stderr.write(`built ${path.relative(process.cwd(), deb)} (${Math.round(lstatSync(deb).size / 1024)} KiB)\n`);
}
