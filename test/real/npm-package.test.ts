// The npm tarballs for real: `npm run package:npm` in a private copy of the repository (the main package and
// the platform package with the single executable, scripts/pack.mjs), then `npm install -g` of the main one
// alone into a scratch prefix (the runtime on this node) and `npx`-style use, run from a directory outside any
// repository; and of both in a throw-away root, where the command is the single executable.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { skipReason, toolSkipReason } from '../helpers/env.js';
import { copyTree } from '../helpers/package-tree.js';
import { fileScratch } from '../helpers/suite.js';
import { makeThrowawayRoot } from '../helpers/throwaway-root.js';

const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };

const skip = skipReason('btrfs');
const platform = `lychd-crypt-linux-${process.arch}`;

describe.skipIf(skip)(`the npm package ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const shared = fileScratch();
  let tarball: string;
  let platformTarball: string;
  let env: NodeJS.ProcessEnv;
  let elsewhere: string;

  const npm = (args: string[], cwd: string): string =>
    execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  beforeAll(async () => {
    // npm's cache and global config inside the scratch dir: nothing leaks into the host's ~/.npm.
    env = { ...process.env, npm_config_cache: shared.scratch.path('npm-cache'), npm_config_userconfig: shared.scratch.path('npmrc'), npm_config_update_notifier: 'false' };
    elsewhere = shared.scratch.path('elsewhere');
    mkdirSync(elsewhere);
    const repo = copyTree(shared.scratch);
    const out = execFileSync('npm', ['run', '--silent', 'package:npm', '--', shared.scratch.dir], { cwd: repo, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    [tarball, platformTarball] = out.trim().split('\n').slice(-2) as [string, string];
  }, 600_000);

  it('holds only the runtime, its man page, completions, templates and the documents', () => {
    expect(path.basename(tarball)).toBe(`lychd-crypt-${pkg.version}.tgz`);
    const all = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();
    // The runtime directory: exactly what its manifest lists, and the manifest.
    const runtime = all.filter((f) => f.startsWith('package/dist/lychd-crypt/')).map((f) => path.basename(f));
    const listed = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/dist/lychd-crypt/manifest.json'], { encoding: 'utf8' })) as { files: Record<string, string> };
    expect(runtime.sort()).toEqual([...Object.keys(listed.files), 'manifest.json'].sort());
    expect(runtime).toEqual(expect.arrayContaining(['lychd-crypt.js', 'koffi.node']));
    const files = all.filter((f) => !f.startsWith('package/dist/lychd-crypt/'));
    expect(files).toEqual([
      'package/CHANGELOG.md',
      'package/LICENSE',
      'package/README.md',
      'package/bin/lychd-crypt',
      'package/dist/completion/_lychd-crypt',
      'package/dist/completion/lychd-crypt',
      'package/dist/completion/lychd-crypt.fish',
      'package/dist/man/lychd-crypt.1',
      'package/package.json',
      'package/templates/answers.example.yaml',
      'package/templates/apt-snapshot.conf',
      'package/templates/cloud-init.yaml',
      'package/templates/lychd-crypt-snapshot.service',
      'package/templates/lychd-crypt-snapshot.timer',
      'package/templates/lychd-crypt-verify.service',
      'package/templates/lychd-crypt-verify.timer',
    ]);
    const manifest = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as Record<string, unknown>;
    // Everything the runtime uses is bundled: installing the tarball fetches nothing but, where npm finds it,
    // the platform package with the single executable (optional: without it the runtime runs on this node).
    expect(manifest.dependencies).toBeUndefined();
    expect(manifest.optionalDependencies).toEqual({ 'lychd-crypt-linux-x64': pkg.version, 'lychd-crypt-linux-arm64': pkg.version });
    expect(manifest.bin).toEqual({ 'lychd-crypt': 'bin/lychd-crypt' });
  });

  it('the platform package holds the single executable, its addon and manifest, for this os and cpu', () => {
    expect(path.basename(platformTarball)).toBe(`${platform}-${pkg.version}.tgz`);
    const listing = execFileSync('tar', ['-tzvf', platformTarball], { encoding: 'utf8' });
    const all = listing.trim().split('\n').map((l) => l.split(/\s+/).at(-1)).sort();
    expect(all).toEqual(['LICENSE', 'LICENSE.node', 'README.md', 'koffi.node', 'lychd-crypt', 'manifest.json', 'package.json'].map((f) => `package/${f}`));
    expect(listing).toMatch(/^-rwxr-xr-x .* package\/lychd-crypt$/m);
    const manifest = JSON.parse(execFileSync('tar', ['-xzOf', platformTarball, 'package/package.json'], { encoding: 'utf8' })) as Record<string, unknown>;
    expect(manifest).toMatchObject({ name: platform, version: pkg.version, os: ['linux'], cpu: [process.arch] });
    expect(manifest.bin).toBeUndefined(); // the command is the main package's
  });

  it('installs with npm install -g into a prefix and runs from outside the repository', () => {
    const prefix = shared.scratch.path('prefix');
    npm(['install', '--global', '--offline', '--prefix', prefix, tarball], elsewhere);
    const bin = path.join(prefix, 'bin/lychd-crypt');
    expect(existsSync(path.join(prefix, 'share/man/man1/lychd-crypt.1'))).toBe(true);

    const version = spawnSync(bin, ['--version'], { cwd: elsewhere, env, encoding: 'utf8' });
    expect(version.stderr).toBe('');
    expect(version.stdout.trim()).toBe(pkg.version);

    // A dry run plans a loopback crypt (host paths in the scratch dir) and installs this very runtime.
    const answers = shared.scratch.path('answers.yaml');
    writeFileSync(
      answers,
      stringify({
        version: 1,
        crypt: { path: shared.scratch.path('crypt'), user: 'root' },
        method: 'loopback',
        loopback: { image: shared.scratch.path('img/crypt.img'), size: '256M' },
        persist: { via: 'fstab', fstab: shared.scratch.path('etc/fstab'), unitDir: shared.scratch.path('etc/systemd/system') },
        install: { binDir: shared.scratch.path('bin') },
        postgres: { enabled: false },
      }),
    );
    const plan = spawnSync(bin, ['--json', 'init', '--answers', answers, '--dry-run'], { cwd: elsewhere, env, encoding: 'utf8' });
    expect(plan.status, plan.stderr).toBe(0);
    const steps = JSON.parse(plan.stdout).data.plan.steps as { kind: string; source?: string }[];
    expect(steps.map((s) => s.kind)).toContain('mkfs-btrfs');
    const install = steps.find((s) => s.kind === 'install-runtime');
    expect(realpathSync(install!.source!)).toBe(realpathSync(path.join(prefix, 'lib/node_modules/lychd-crypt/dist/lychd-crypt/lychd-crypt.js')));
    // Without the platform package the command is the runtime on this node.
    expect(JSON.parse(spawnSync(bin, ['--version', '--runtime'], { cwd: elsewhere, env, encoding: 'utf8' }).stdout)).toMatchObject({ sea: false, node: process.version });
    expect(existsSync(shared.scratch.path('crypt'))).toBe(false);

    const completion = spawnSync(bin, ['completion', 'bash'], { cwd: elsewhere, env, encoding: 'utf8' });
    expect(completion.stdout).toContain('complete -o default -F _lychd_crypt lychd-crypt');
  });

  it('runs npx-style straight from the tarball', () => {
    const out = execFileSync('npm', ['exec', '--yes', '--offline', `--package=${tarball}`, '--', 'lychd-crypt', '--version'], {
      cwd: elsewhere,
      env,
      encoding: 'utf8',
    });
    expect(out.trim()).toBe(pkg.version);
  });

  it.skipIf(toolSkipReason('unshare') ?? toolSkipReason('nsenter'))('with the platform package, the command is the single executable, and init installs that', async () => {
    const root = await makeThrowawayRoot(shared.scratch);
    const r = root.run(['npm', 'install', '--global', '--offline', '--no-audit', '--no-fund', '--loglevel=error', tarball, platformTarball], { npm_config_cache: shared.scratch.path('npm-cache'), npm_config_update_notifier: 'false' });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // npm's global prefix (/usr/local, or /usr for a distribution's npm): the executable is in its node_modules.
    const sea = `${root.run(['npm', 'prefix', '--global']).stdout.trim()}/lib/node_modules/${platform}/lychd-crypt`;
    const report = root.run(['lychd-crypt', '--version', '--runtime']);
    expect(report.code, report.stderr).toBe(0);
    expect(JSON.parse(report.stdout)).toMatchObject({ version: pkg.version, sea: true, addon: expect.any(String) });
    expect(JSON.parse(report.stdout).node).toMatch(/^v24\./);
    const answers = shared.scratch.path('answers-sea.yaml');
    writeFileSync(answers, stringify({ version: 1, crypt: { path: shared.scratch.path('crypt'), user: 'root' }, method: 'loopback', loopback: { image: shared.scratch.path('img/crypt.img'), size: '256M' }, postgres: { enabled: false } }));
    const plan = root.run(['lychd-crypt', '--json', 'init', '--answers', answers, '--dry-run']);
    expect(plan.code, plan.stderr).toBe(0);
    const install = (JSON.parse(plan.stdout).data.plan.steps as { kind: string; source?: string }[]).find((s) => s.kind === 'install-runtime');
    expect(install).toMatchObject({ source: sea });
  }, 300_000);
});
