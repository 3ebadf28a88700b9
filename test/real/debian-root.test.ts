// The stock Debian roots the install tests use (test/helpers/debian-root.*): bookworm and trixie as
// `debootstrap --variant=minbase` makes them, with nothing but Debian's archive behind them and no Node.js;
// a package waiting in the apt cache installs from the archive's own lists without the network; the host's
// loop devices reach in, so a Btrfs image can be made and mounted there; and whatever a test writes in the
// throw-away root is gone for the next one, the cached root unchanged.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { cachedDebianRoot, debianRootSkipReason, makeDebianRoot, type Suite } from '../helpers/debian-root.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';
import type { ThrowawayRoot } from '../helpers/throwaway-root.js';

const skip = skipReason('root', 'loop') ?? debianRootSkipReason();
// What an install test needs from the archive: the package's dependencies.
const PACKAGES = ['btrfs-progs', 'util-linux', 'mount', 'e2fsprogs'];
const RELEASE: Record<Suite, RegExp> = { bookworm: /^12\./, trixie: /^13\./ };

describe.skipIf(skip).each(['bookworm', 'trixie'] as const)(`a stock %s root ${skip ? `(skipped: ${skip})` : ''}`, (suite) => {
  const scratches = scratchSuite();
  let scratch: Scratch;
  let root: ThrowawayRoot;
  beforeEach(async () => {
    scratch = await scratches.scratch();
    root = await makeDebianRoot(scratch, suite, PACKAGES);
  }, 15 * 60_000);

  const ok = (argv: string[], env?: Record<string, string>): string => {
    const r = root.run(argv, env);
    expect(r.code, `${argv.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
    return r.stdout;
  };

  it('is that release with only its archive, no Node.js, and installs from the cache offline', () => {
    expect(ok(['cat', '/etc/debian_version'])).toMatch(RELEASE[suite]);
    expect(ok(['cat', '/etc/apt/sources.list.d/debian.sources'])).toContain(`Suites: ${suite} ${suite}-updates`);
    expect(root.run(['sh', '-c', 'command -v node nodejs']).code).not.toBe(0);
    expect(ok(['dpkg-query', '-W', '-f', '${Status}', 'libstdc++6'])).toBe('install ok installed');
    // No network: apt may only use what is in the root (an unreachable proxy makes any download fail).
    ok(['apt-get', 'install', '-y', '-q', '--no-install-recommends', 'btrfs-progs'], { DEBIAN_FRONTEND: 'noninteractive', http_proxy: 'http://127.0.0.1:9' });
    expect(ok(['btrfs', '--version'])).toMatch(/btrfs-progs v6\./);

    // A Btrfs image on a loop device of the host's, made and mounted inside the root.
    const img = scratch.path('root.img');
    const mnt = scratch.path('mnt');
    ok(['truncate', '-s', '128M', img]);
    ok(['mkfs.btrfs', '-q', img]);
    ok(['mkdir', mnt]);
    ok(['mount', '-o', 'loop', img, mnt]);
    ok(['btrfs', 'subvolume', 'create', path.join(mnt, 'active')]);
    expect(ok(['findmnt', '-n', '-o', 'FSTYPE', '--mountpoint', mnt]).trim()).toBe('btrfs');
    ok(['umount', mnt]);
  }, 120_000);

  it('starts from the cached root unchanged: what a test installed (btrfs-progs above) stayed in its own layer', () => {
    expect(root.run(['sh', '-c', 'command -v btrfs']).code).not.toBe(0);
    const cached = cachedDebianRoot(suite, PACKAGES);
    expect(readFileSync(path.join(cached, 'etc/lychd-crypt-test-root'), 'utf8')).toContain(`suite=${suite}`);
    expect(execFileSync('sh', ['-c', 'ls "$1"/var/cache/apt/archives/btrfs-progs_*.deb', 'sh', cached], { encoding: 'utf8' })).toMatch(/btrfs-progs_/);
  });
});
