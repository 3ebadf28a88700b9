// A grown image survives a reboot: under a real systemd (test/helpers/systemd.ts) `init` persists a
// loopback crypt with its mount unit (the image preallocated: the host has room), `resize --size +256M` grows it online, and after a reboot the unit
// mounts the grown image — Btrfs, the loop device and the file at the new size, the data there.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { buildCli, writeAnswers } from '../helpers/init.js';
import { fileScratch } from '../helpers/suite.js';
import { bootSystemd, type Container } from '../helpers/systemd.js';
import { cliIn, mountIn } from '../helpers/systemd-cli.js';

const skip = skipReason('root', 'systemd', 'btrfs', 'loop');
const MiB = 2 ** 20;

describe.skipIf(skip)(`resize under a real systemd ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const shared = fileScratch(120_000);
  let box: Container;
  let bundle: string;
  beforeAll(async () => {
    bundle = buildCli(shared.scratch);
    box = await bootSystemd({ scratch: shared.scratch });
  }, 180_000);

  it('the mount unit mounts the grown image after a reboot', async () => {
    const crypt = shared.scratch.path('grow/crypt');
    const image = shared.scratch.path('grow/img/crypt.img');
    const answers = writeAnswers(shared.scratch, { crypt: { path: crypt, user: 'root' }, method: 'loopback', loopback: { image, size: '256M' }, persist: { via: 'systemd' }, postgres: { enabled: false } }, 'grow.yaml');
    const init = await cliIn(box, bundle, ['init', '--answers', answers, '--yes', '--json']);
    expect(init.code, init.stderr).toBe(0);
    // The host has room: init preallocated the image (loopback.preallocate's default).
    const allocated = async () => Number((await box.exec(['stat', '-c', '%b', image])).stdout.trim()) * 512;
    expect(await allocated()).toBeGreaterThanOrEqual(256 * MiB);
    expect((await box.exec(['sh', '-c', `echo kept > ${path.join(crypt, 'active/data')}`])).code).toBe(0);

    const r = await cliIn(box, bundle, ['--crypt', crypt, 'resize', '--size', '+256M', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ direction: 'grow', toBytes: 512 * MiB });

    await box.reboot();
    const m = await mountIn(box, crypt);
    expect(m).toMatchObject({ fstype: 'btrfs' });
    const show = (await box.exec(['btrfs', 'filesystem', 'show', '--raw', crypt])).stdout;
    expect(Number(/devid\s+1\s+size\s+(\d+)/.exec(show)![1])).toBe(512 * MiB);
    expect((await box.exec(['blockdev', '--getsize64', m!.source])).stdout.trim()).toBe(String(512 * MiB));
    expect((await box.exec(['stat', '-c', '%s', image])).stdout.trim()).toBe(String(512 * MiB));
    expect((await box.exec(['cat', path.join(crypt, 'active/data')])).stdout.trim()).toBe('kept');
    // A preallocated image grows preallocated.
    expect(await allocated()).toBeGreaterThanOrEqual(512 * MiB);
  });
});
