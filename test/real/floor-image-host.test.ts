// Method B: a sparse image larger than the free space of the filesystem holding it. The usable free space
// counts only what the host can still back, so status warns and the scheduled run skips before the image
// could hit ENOSPC on the host (which Btrfs inside cannot see coming).
import { describe, expect, test } from 'vitest';
import path from 'node:path';
import { skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';
import { sh } from '../helpers/host.js';
import { cli } from '../helpers/snap.js';
import { makeCryptFixture, reconfigure } from '../helpers/crypt-fixture.js';
import { hostFs } from '../helpers/scenes.js';

const skip = skipReason('root', 'btrfs', 'loop');
const scratches = scratchSuite();
let scratch: Scratch | undefined;

describe.skipIf(skip)(`floor on an image the host cannot back ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('the host counts: status shows it, the scheduled run skips', async () => {
    scratch = await scratches.scratch();
    const host = await hostFs(scratch, 'ext4', 300);
    const image = path.join(host, 'crypt.img');
    // sparse: far more than the 300M host can hold
    const fx = await makeCryptFixture(scratch, { image, sizeMiB: 1024, postgres: false });
    const root = fx.root;
    await reconfigure(fx, { ...fx.config, space: { minFree: { percent: 10 } } });

    const s = await cli(root, ['--json', 'status']);
    // A sparse image its host cannot back is a finding (doctor's space.host): status says so with exit 1.
    expect(s.code, s.stderr).toBe(1);
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
