// The Debian package on the hosts LychD runs on: stock Debian 12 and 13 roots as debootstrap's minbase makes
// them (test/helpers/debian-root.ts), with only Debian's archive behind them and no Node.js. `apt-get install
// ./lychd-crypt_*.deb` with the network blocked (any download fails: the dependencies come from the archive's
// lists and the root's apt cache), then the single executable runs there: --version, init's plan, a real init
// of a loopback crypt, snapshot, rollback, doctor; `apt-get remove` and `purge` leave nothing of the package
// and the crypt as it was.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { skipReason, toolSkipReason } from '../helpers/env.js';
import { debianRootSkipReason, makeDebianRoot, type Suite } from '../helpers/debian-root.js';
import { copyTree } from '../helpers/package-tree.js';
import { makeScratch, type Scratch } from '../helpers/scratch.js';
import type { ThrowawayRoot } from '../helpers/throwaway-root.js';
import { debArch } from '../../packaging/deb.js';

const skip = skipReason('root', 'btrfs', 'loop') ?? debianRootSkipReason() ?? toolSkipReason('dpkg-deb');
// The package's dependencies, waiting in the cached root's apt cache (the same root test/real/debian-root.test.ts uses).
const PACKAGES = ['btrfs-progs', 'util-linux', 'mount', 'e2fsprogs'];
const PACKAGED = '/usr/lib/lychd-crypt/lychd-crypt';
// Any download fails: apt may only use the root's own lists and cache.
const OFFLINE = { DEBIAN_FRONTEND: 'noninteractive', http_proxy: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9' };

describe.skipIf(skip)(`the Debian package on stock roots ${skip ? `(skipped: ${skip})` : ''}`, () => {
  let build: Scratch;
  let deb: string;
  let version: string;
  beforeAll(async () => {
    build = await makeScratch();
    const repo = copyTree(build);
    execFileSync('npm', ['run', '--silent', 'package:deb', '--', '--fast', build.dir], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] });
    version = (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;
    deb = build.path(`lychd-crypt_${version}_${debArch()}.deb`);
  }, 600_000);
  afterAll(async () => {
    await build?.cleanup();
  });

  describe.each(['bookworm', 'trixie'] as const)('%s', (suite: Suite) => {
    let scratch: Scratch;
    let root: ThrowawayRoot;
    beforeEach(async () => {
      scratch = await makeScratch();
      root = await makeDebianRoot(scratch, suite, PACKAGES);
    }, 15 * 60_000);
    afterEach(async () => {
      await scratch?.cleanup();
    });

    const ok = (argv: string[], env?: Record<string, string>): string => {
      const r = root.run(argv, env);
      expect(r.code, `${argv.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
      return r.stdout;
    };

    it('installs from the archive alone, runs init, snapshot and rollback with no Node.js, and goes without a trace', () => {
      const debInRoot = scratch.path(path.basename(deb)); // the scratch dir is bound into the root at its own path
      writeFileSync(debInRoot, readFileSync(deb));
      // Every path the package holds, and which of them the root had before (/usr, /usr/bin …).
      const paths = execFileSync('dpkg-deb', ['--contents', deb], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/\s+/)[5]!.replace(/^\./, '').replace(/\/$/, '') || '/');
      const present = () => paths.filter((p) => existsSync(root.host(p)));
      const before = present();
      const installed = ok(['apt-get', 'install', '-y', '-q', '--no-install-recommends', debInRoot], OFFLINE);
      expect(installed).toMatch(/Setting up lychd-crypt \(/);
      expect(root.run(['sh', '-c', 'command -v node nodejs']).code, 'no Node.js on the host').not.toBe(0);
      expect(ok(['readlink', '-f', '/usr/bin/lychd-crypt']).trim()).toBe(PACKAGED);
      expect(ok(['lychd-crypt', '--version']).trim()).toBe(version);

      // init's plan links the crypt's command to the packaged executable; then a real init of a loopback crypt.
      const crypt = scratch.path('crypt');
      const answers = scratch.path('answers.yaml');
      writeFileSync(
        answers,
        stringify({ version: 1, crypt: { path: crypt, user: 'root' }, method: 'loopback', loopback: { image: scratch.path('img/crypt.img'), size: '256M' }, postgres: { enabled: false } }),
      );
      const plan = JSON.parse(ok(['lychd-crypt', '--json', 'init', '--answers', answers, '--dry-run'])).data as { plan: { steps: { kind: string; link?: boolean; source?: string }[] } };
      expect(plan.plan.steps.find((s) => s.kind === 'install-runtime')).toMatchObject({ source: PACKAGED, link: true });
      expect(existsSync(crypt)).toBe(false);
      ok(['lychd-crypt', 'init', '--answers', answers, '--yes']);
      expect(ok(['readlink', '/usr/local/bin/lychd-crypt']).trim()).toBe(PACKAGED);
      expect(ok(['findmnt', '-n', '-o', 'FSTYPE', '--mountpoint', crypt]).trim()).toBe('btrfs');

      // The Ritual (koffi's addon beside the executable makes its ioctls), then a rollback to it.
      // The crypt is mounted in the root's mount namespace: the host reaches it through the root.
      const data = root.host(path.join(crypt, 'active', 'data.txt'));
      writeFileSync(data, 'before\n');
      ok(['lychd-crypt', '--crypt', crypt, 'snapshot', '--mode', 'none', '--label', 'stock']);
      const name = (JSON.parse(ok(['lychd-crypt', '--crypt', crypt, '--json', 'list'])).data as { snapshots: { name: string }[] }).snapshots[0]!.name;
      writeFileSync(data, 'after\n');
      ok(['lychd-crypt', '--crypt', crypt, 'rollback', name, '--yes']);
      expect(readFileSync(data, 'utf8')).toBe('before\n');
      const doctor = root.run(['/usr/local/bin/lychd-crypt', '--crypt', crypt, '--json', 'doctor']);
      expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);

      // What a crypt is made of, before and after the package goes.
      const state = () => ({
        tree: ok(['find', crypt, '-xdev', '-printf', '%P %y %m %s\n']).split('\n').sort().join('\n'),
        registry: ok(['find', '/etc/lychd-crypt', '-name', '*.json', '-exec', 'cat', '{}', '+']),
        fstab: ok(['grep', crypt, '/etc/fstab']),
        subvolumes: ok(['btrfs', 'subvolume', 'list', crypt]),
      });
      const kept = state();
      ok(['apt-get', 'remove', '-y', '-q', 'lychd-crypt'], OFFLINE);
      expect(existsSync(root.host('/usr/lib/lychd-crypt')), '/usr/lib/lychd-crypt after remove').toBe(false);
      expect(existsSync(root.host('/usr/bin/lychd-crypt'))).toBe(false);
      expect(state()).toEqual(kept);
      ok(['apt-get', 'purge', '-y', '-q', 'lychd-crypt'], OFFLINE);
      expect(root.run(['dpkg-query', '-W', 'lychd-crypt']).code).not.toBe(0);
      for (const p of ['/usr/lib/lychd-crypt', '/usr/share/doc/lychd-crypt', '/usr/share/lychd-crypt', '/usr/share/lintian/overrides/lychd-crypt', '/usr/share/man/man1/lychd-crypt.1.gz']) {
        expect(existsSync(root.host(p)), p).toBe(false);
      }
      expect(state()).toEqual(kept);
      expect(present()).toEqual(before);
      // The crypt's own command was the package's link: it dangles until the package is back (doctor says so).
      expect(lstatSync(root.host('/usr/local/bin/lychd-crypt')).isSymbolicLink()).toBe(true);
    }, 300_000);
  });
});
