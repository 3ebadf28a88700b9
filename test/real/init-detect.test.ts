// detectHost on real scratch hosts: the filesystem under the crypt path (walking up to the nearest
// existing directory), free space, data at the path, the image and the device with their signatures.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { answersSchema } from '../../src/install/answers/schema.js';
import { createRunner } from '../../src/base/runner.js';
import { skipReason } from '../helpers/env.js';
import { makeLoopDevice, mountScratchFs, sh } from '../helpers/host.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';
import { hostFs } from '../helpers/scenes.js';
import { detectHost } from '../../src/install/init.js';

const skip = skipReason('root', 'btrfs', 'xfs', 'loop');

describe.skipIf(skip)(`detectHost ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const scratches = scratchSuite();
  let scratch: Scratch;

  it('reads the host filesystem of a missing path, its free space, and a device holding ext4', async () => {
    scratch = await scratches.scratch();
    const host = await hostFs(scratch, 'xfs', 400);
    const dev = makeLoopDevice(scratch, 300);
    sh(['mkfs.ext4', '-q', '-L', 'precious', dev]);
    const crypt = path.join(host, 'a/b/crypt');
    const answers = answersSchema.parse({
      version: 1,
      crypt: { path: crypt },
      partition: { device: dev },
      loopback: { image: path.join(host, 'img/c.img') },
      persist: { fstab: scratch.path('fstab'), unitDir: scratch.path('units') },
    });
    writeFileSync(scratch.path('fstab'), `# test\n/dev/sdz1 ${crypt} ext4 defaults 0 2\n`);
    const f = await detectHost(answers, { runner: createRunner(), env: process.env });
    expect(f.cryptPath).toBe(crypt);
    expect(f.existingAncestor).toBe(host);
    expect(f.hostFs).toMatchObject({ target: host, fstype: 'xfs' });
    expect(f.freeBytes).toBeGreaterThan(200 * 2 ** 20);
    expect(f.freeBytes).toBeLessThan(400 * 2 ** 20);
    expect(f.cryptMount).toBeNull();
    expect(f.cryptHasData).toBe(false);
    expect(f.imageHost).toMatchObject({ path: host, fstype: 'xfs', exists: false });
    expect(f.image).toMatchObject({ exists: false });
    expect(f.device).toMatchObject({ path: dev, exists: true, isBlock: true, readOnly: false, mountPoints: [], holders: [], sizeBytes: 300 * 2 ** 20 });
    expect(f.device!.signatures).toMatchObject([{ type: 'ext4', label: 'precious' }]);
    expect(f.persisted.fstabLines).toEqual([{ line: 2, what: '/dev/sdz1', tagged: false }]);
    expect(f.tools['mkfs.btrfs']).toBe(true);
    expect(f.btrfsInKernel).toBe(true);
    expect(f.isRoot).toBe(true);
  });

  it('sees data at the path, and the parent filesystem when the path is itself a mount point', async () => {
    scratch = await scratches.scratch();
    const host = await hostFs(scratch, 'ext4', 300);
    const crypt = path.join(host, 'crypt');
    mkdirSync(crypt);
    writeFileSync(path.join(crypt, 'x'), '');
    const answers = answersSchema.parse({ version: 1, crypt: { path: crypt }, method: 'native' });
    const f = await detectHost(answers, { runner: createRunner(), env: process.env });
    expect(f.cryptEntries).toEqual(['x']);
    expect(f.hostFs.fstype).toBe('ext4');

    await mountScratchFs(scratch, 'btrfs', crypt, 300);
    const g = await detectHost(answers, { runner: createRunner(), env: process.env });
    expect(g.cryptMount).toMatchObject({ target: crypt, fstype: 'btrfs' });
    expect(g.cryptMount!.backingFile).toMatch(/btrfs-.*\.img$/);
    expect(g.hostFs).toMatchObject({ target: host, fstype: 'ext4' });
  });
  it('resolves symlinks in the crypt path (mount points are canonical)', async () => {
    scratch = await scratches.scratch();
    const host = await hostFs(scratch, 'ext4', 300);
    symlinkSync(host, scratch.path('link'));
    const answers = answersSchema.parse({ version: 1, crypt: { path: scratch.path('link/sub/crypt') } });
    const f = await detectHost(answers, { runner: createRunner(), env: process.env });
    expect(f.cryptPath).toBe(path.join(host, 'sub/crypt'));
    expect(f.existingAncestor).toBe(host);
  });
});
