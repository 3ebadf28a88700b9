// Method B: a sparse image larger than the free space of the filesystem holding it. The usable free space
// counts only what the host can still back, so status warns and the scheduled run skips before the image
// could hit ENOSPC on the host (which Btrfs inside cannot see coming).
import { afterEach, describe, expect, test } from 'vitest';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { skipReason } from '../helpers/env.js';
import { makeScratch, type Scratch } from '../helpers/scratch.js';
import { mountScratchFs, sh } from '../helpers/host.js';
import { cli } from '../helpers/snap.js';
import type { Config } from '../../src/config/config.js';
import { writeJsonAtomic } from '../../src/core/fs.js';
import { cryptPaths } from '../../src/crypt/paths.js';

const skip = skipReason('root', 'btrfs', 'loop');
let scratch: Scratch | undefined;
afterEach(async () => {
  await scratch?.cleanup();
  scratch = undefined;
});

describe.skipIf(skip)(`floor on an image the host cannot back ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('the host counts: status shows it, the scheduled run skips', async () => {
    scratch = await makeScratch();
    const host = scratch.path('host');
    await mountScratchFs(scratch, 'ext4', host, 300);
    const image = path.join(host, 'crypt.img');
    sh(['truncate', '-s', '1G', image]); // sparse: far more than the 300M host can hold
    sh(['mkfs.btrfs', '-q', '-f', image]);
    const root = scratch.path('crypt');
    await mkdir(root);
    sh(['mount', '-o', 'loop', image, root]);
    scratch.defer(() => {
      try {
        sh(['umount', root]);
      } catch {
        /* the sweep retries */
      }
    });
    const paths = cryptPaths(root);
    sh(['btrfs', 'subvolume', 'create', paths.active]);
    await mkdir(paths.snapshots);
    await mkdir(paths.state, { mode: 0o700 });
    const config = {
      version: 1,
      crypt: { path: root, user: 'root', uid: 0, gid: 0, home: '/root' },
      method: 'loopback',
      loopback: { image, sizeBytes: 2 ** 30 },
      partition: null,
      filesystem: { label: 'lychd', mountOptions: ['noatime'] },
      persist: { via: 'none', fstab: scratch.path('fstab'), unitDir: scratch.path('units') },
      install: { binDir: scratch.path('bin') },
      postgres: null,
      space: { minFree: { percent: 10 } },
    } satisfies Config;
    await writeJsonAtomic(paths.config, config);

    const s = await cli(root, ['--json', 'status']);
    expect(s.code, s.stderr).toBe(0);
    const { space } = s.json;
    expect(space.host.imageGrowthBytes).toBeGreaterThan(space.host.freeBytes);
    expect(space.freeBytes).toBeLessThan(space.cryptFreeBytes);
    expect(space.freeBytes).toBe(space.cryptFreeBytes - (space.host.imageGrowthBytes - space.host.freeBytes));
    expect((await cli(root, ['status'])).stdout).toMatch(/^host +only [\d.]+M free for [\d.]+M the image may still grow$/m);

    // Above the floor for now: the scheduled run snapshots.
    const first = await cli(root, ['--json', 'snapshot', '--scheduled']);
    expect(first.code, first.stderr).toBe(0);

    // Fill the HOST (outside the crypt) until what it can back is below the floor.
    const hostFill = Math.floor((space.host.freeBytes - 40 * 2 ** 20) / 2 ** 20);
    sh(['dd', 'if=/dev/zero', `of=${path.join(host, 'other-data')}`, 'bs=1M', `count=${hostFill}`, 'conv=fsync', 'status=none']);
    const skipped = await cli(root, ['snapshot', '--scheduled']);
    expect(skipped.code).toBe(1);
    expect(skipped.stderr).toMatch(/skipped the scheduled snapshot: free space .* below the floor 10%/);
    const check = await cli(root, ['status', '--check']);
    expect(check.code).toBe(2);
    expect(check.stdout).toMatch(/^LYCHD-CRYPT CRITICAL - free space/);
  });
});
