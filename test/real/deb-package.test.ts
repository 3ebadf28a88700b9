// The Debian package for real: `npm run package:deb` in a private copy of the repository, lintian (no
// errors, no warnings), then dpkg -i into a throw-away root (an overlay of the host's /, so the host's dpkg
// database and files are never touched), man -w, the completions, init of a loopback crypt that uses the
// packaged runtime, and dpkg -r / dpkg -P leaving that crypt exactly as it was. On stock Debian roots without
// Node.js: test/real/deb-stock-root.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { skipReason } from '../helpers/env.js';
import { copyTree } from '../helpers/package-tree.js';
import { fileScratch } from '../helpers/suite.js';
import { makeThrowawayRoot, type ThrowawayRoot } from '../helpers/throwaway-root.js';
import { debArch } from '../../packaging/deb.js';

const has = (cmd: string): boolean => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd]).status === 0;
const tools = ['dpkg-deb', 'lintian', 'unshare', 'nsenter'].filter((t) => !has(t));
const skip = skipReason('root', 'btrfs', 'loop') ?? (tools.length ? `needs ${tools.join(', ')} (scripts/setup.sh installs them)` : undefined);
if (skip && tools.length && process.env.CI === 'true') throw new Error(`CI: prerequisite missing: ${skip}`);

const PACKAGED = '/usr/lib/lychd-crypt/lychd-crypt';
const SHIPPED = [
  PACKAGED,
  '/usr/lib/lychd-crypt/koffi.node',
  '/usr/lib/lychd-crypt/manifest.json',
  '/usr/share/lintian/overrides/lychd-crypt',
  '/usr/bin/lychd-crypt',
  '/usr/share/man/man1/lychd-crypt.1.gz',
  '/usr/share/bash-completion/completions/lychd-crypt',
  '/usr/share/zsh/vendor-completions/_lychd-crypt',
  '/usr/share/fish/vendor_completions.d/lychd-crypt.fish',
  '/usr/share/lychd-crypt/answers.example.yaml',
  '/usr/share/lychd-crypt/cloud-init.yaml',
  '/usr/share/doc/lychd-crypt/copyright',
  '/usr/share/doc/lychd-crypt/changelog.gz',
];

describe.skipIf(skip)(`the Debian package ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const shared = fileScratch();
  let deb: string;
  let version: string;
  let root: ThrowawayRoot;

  beforeAll(async () => {
    const repo = copyTree(shared.scratch);
    execFileSync('npm', ['run', '--silent', 'package:deb', '--', '--fast', shared.scratch.dir], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] });
    version = (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;
    deb = shared.scratch.path(`lychd-crypt_${version}_${debArch()}.deb`);
    root = await makeThrowawayRoot(shared.scratch);
  }, 300_000);

  const ok = (argv: string[]): string => {
    const r = root.run(argv);
    expect(r.code, `${argv.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
    return r.stdout;
  };

  it('has the Debian fields and files', () => {
    const field = (f: string) => execFileSync('dpkg-deb', ['--field', deb, f], { encoding: 'utf8' }).trim();
    expect(field('Package')).toBe('lychd-crypt');
    expect(field('Version')).toBe(version);
    // Per architecture: it carries Node.js and koffi's native addon, and depends on no Node.js (dpkg-shlibdeps'
    // C and C++ runtimes, then the tools lychd-crypt runs).
    expect(field('Architecture')).toBe(debArch());
    expect(field('Depends')).toMatch(/^libc6 \(>= 2\.\d+\), libgcc-s1 \(>= [\d.]+\), libstdc\+\+6 \(>= [\d.]+\), btrfs-progs, util-linux \(>= 2\.38\), mount, e2fsprogs$/);
    const listing = execFileSync('dpkg-deb', ['--contents', deb], { encoding: 'utf8' });
    for (const f of SHIPPED) expect(listing).toContain(`.${f}`);
    expect(listing).toMatch(/\.\/usr\/bin\/lychd-crypt -> \.\.\/lib\/lychd-crypt\/lychd-crypt$/m);
    expect(listing).not.toMatch(/\/src\/|\.ts$|node_modules/m);
  });

  it('lintian reports no errors and no warnings', () => {
    // lintian refuses nothing as root but says so on stderr; its findings are on stdout.
    const r = spawnSync('lintian', ['--fail-on', 'error,warning', '--no-tag-display-limit', deb], { encoding: 'utf8' });
    const findings = r.stdout.split('\n').filter((l) => /^[EW]: /.test(l));
    expect(findings).toEqual([]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  }, 300_000);

  it('installs, provisions a crypt with the packaged runtime, and removes without touching it', () => {
    const installed = ok(['dpkg', '-i', deb]);
    expect(installed).toContain("run 'lychd-crypt init'");
    for (const f of SHIPPED) expect(existsSync(root.host(f)), f).toBe(true);
    expect(ok(['man', '-w', 'lychd-crypt']).trim()).toBe('/usr/share/man/man1/lychd-crypt.1.gz');
    expect(ok(['bash', '-c', 'source /usr/share/bash-completion/completions/lychd-crypt && complete -p lychd-crypt'])).toContain('-F _lychd_crypt');
    expect(ok(['lychd-crypt', '--version']).trim()).toBe(version);
    // The installed runtime directory is whole: every file its manifest lists (the stripped addon included).
    const manifest = JSON.parse(readFileSync(root.host('/usr/lib/lychd-crypt/manifest.json'), 'utf8')) as { files: Record<string, string> };
    for (const [name, sha] of Object.entries(manifest.files)) expect(execFileSync('sha256sum', [root.host(`/usr/lib/lychd-crypt/${name}`)], { encoding: 'utf8' }).split(' ')[0], name).toBe(sha);
    expect(Object.keys(manifest.files).sort()).toEqual(['koffi.node', 'lychd-crypt']);
    // Node.js is in the package: its licence (and its components' notices) is in the copyright file.
    const copyright = readFileSync(root.host('/usr/share/doc/lychd-crypt/copyright'), 'utf8');
    expect(copyright).toMatch(/^Files: usr\/lib\/lychd-crypt\/lychd-crypt$/m);
    expect(copyright).toMatch(/^License: Node\.js$\n Node\.js is licensed for use as follows:/m);
    expect(ok(['lychd-crypt', 'completion', 'bash'])).toBe(readFileSync(root.host('/usr/share/bash-completion/completions/lychd-crypt'), 'utf8'));
    // fish loads the file from its vendor directory by itself (for a command on PATH) and completes the commands.
    expect(ok(['fish', '-c', 'complete -C "lychd-crypt "'])).toMatch(/^snapshot\b/m);

    // init of a loopback crypt (in the scratch dir), fstab and bin dir at their defaults inside the root.
    const crypt = shared.scratch.path('crypt');
    const answers = shared.scratch.path('answers.yaml');
    writeFileSync(
      answers,
      stringify({ version: 1, crypt: { path: crypt, user: 'root' }, method: 'loopback', loopback: { image: shared.scratch.path('img/crypt.img'), size: '256M' }, postgres: { enabled: false } }),
    );
    const plan = JSON.parse(ok(['lychd-crypt', '--json', 'init', '--answers', answers, '--dry-run'])).data as { plan: { steps: { kind: string; link?: boolean; source?: string }[] } };
    expect(plan.plan.steps.find((s) => s.kind === 'install-runtime')).toMatchObject({ source: PACKAGED, link: true });
    ok(['lychd-crypt', 'init', '--answers', answers, '--yes']);
    expect(readlinkSync(root.host('/usr/local/bin/lychd-crypt'))).toBe(PACKAGED);
    expect(ok(['findmnt', '-n', '-o', 'FSTYPE', '--mountpoint', crypt]).trim()).toBe('btrfs');
    ok(['lychd-crypt', '--crypt', crypt, 'snapshot', '--mode', 'none', '--label', 'before-remove']);
    const doctor = root.run(['/usr/local/bin/lychd-crypt', '--crypt', crypt, '--json', 'doctor']);
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);

    // What a crypt is made of, before and after the package goes.
    const state = () => ({
      tree: ok(['find', crypt, '-xdev', '-printf', '%P %y %m %s\n']).split('\n').sort().join('\n'),
      registry: ok(['find', '/etc/lychd-crypt', '-name', '*.json', '-exec', 'cat', '{}', '+']), // the throwaway root's own
      fstab: ok(['grep', crypt, '/etc/fstab']),
      mounted: ok(['findmnt', '-n', '-o', 'SOURCE,FSTYPE', '--mountpoint', crypt]),
      subvolumes: ok(['btrfs', 'subvolume', 'list', crypt]),
      image: lstatSync(shared.scratch.path('img/crypt.img')).size,
    });
    const before = state();
    expect(before.tree).toContain('active d');
    expect(before.subvolumes).toMatch(/before-remove/);

    ok(['dpkg', '-r', 'lychd-crypt']);
    for (const f of SHIPPED) expect(existsSync(root.host(f)), f).toBe(false);
    expect(root.run(['man', '-w', 'lychd-crypt']).code).not.toBe(0);
    expect(state()).toEqual(before);
    // The crypt's command is the packaged runtime's link: it dangles until the package is back.
    expect(lstatSync(root.host('/usr/local/bin/lychd-crypt')).isSymbolicLink()).toBe(true);

    ok(['dpkg', '-i', deb]);
    expect(root.run(['/usr/local/bin/lychd-crypt', '--crypt', crypt, 'doctor']).code).toBe(0);
    ok(['dpkg', '--purge', 'lychd-crypt']);
    expect(state()).toEqual(before);
    expect(root.run(['dpkg-query', '-W', 'lychd-crypt']).stderr).toContain('no packages found matching lychd-crypt');
  }, 300_000);

  it("the host's dpkg database never saw the package", () => {
    const r = spawnSync('dpkg-query', ['-W', 'lychd-crypt'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(existsSync(PACKAGED)).toBe(false);
  });
});
