// The free-space trend on a real crypt: each snapshot's metadata records the crypt's usage (statfs); with
// history that fills the crypt within 30 days, status shows the pace and "grow soon" with the resize
// command (and --json carries it), and doctor's space.trend gives the same advice (advice, not a problem).
import { describe, expect, test } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { skipReason } from '../helpers/env.js';
import { makeCryptFixture } from '../helpers/crypt-fixture.js';
import { cli } from '../helpers/snap.js';
import { scratchSuite } from '../helpers/suite.js';

const scratches = scratchSuite();
const skip = skipReason('root', 'btrfs', 'loop');
const MiB = 2 ** 20;

describe.skipIf(skip)(`free-space trend ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('snapshots record usage; status and doctor say grow soon, with the command', async () => {
    const scratch = await scratches.scratch();
    const fx = await makeCryptFixture(scratch, { sizeMiB: 512, postgres: false });
    execFileSync('dd', ['if=/dev/urandom', `of=${path.join(fx.paths.active, 'data')}`, 'bs=1M', 'count=200', 'conv=fsync'], { stdio: 'ignore' });
    const first = await cli(fx.root, ['--json', 'snapshot']);
    expect(first.code, first.stderr).toBe(0);
    const name = first.json.snapshot.name as string;
    const metaFile = path.join(fx.paths.snapshots, `${name}.json`);
    const meta = JSON.parse(await readFile(metaFile, 'utf8'));
    expect(meta.space).toMatchObject({ sizeBytes: expect.any(Number), usedBytes: expect.any(Number), freeBytes: expect.any(Number) });
    expect(meta.space.sizeBytes).toBeGreaterThan(400 * MiB);

    // Without history: no trend yet.
    const early = await cli(fx.root, ['--json', 'status']);
    expect(early.json.trend).toBeNull();

    // History: a day ago the crypt used 200 MiB less; at that pace it is full in days.
    await writeFile(metaFile, JSON.stringify({ ...meta, createdAt: new Date(Date.now() - 86_400_000).toISOString(), space: { ...meta.space, usedBytes: meta.space.usedBytes - 200 * MiB } }));
    const status = await cli(fx.root, ['--json', 'status']);
    expect(status.json.trend).toMatchObject({ points: 2, bytesPerDay: expect.any(Number), daysLeft: expect.any(Number) });
    expect(status.json.trend.bytesPerDay).toBeGreaterThan(150 * MiB);
    expect(status.json.trend.daysLeft).toBeLessThan(30);
    expect(status.json.trend.advice).toMatch(/sudo lychd-crypt resize --size \+\d+G/);
    const human = await cli(fx.root, ['status']);
    expect(human.stdout).toMatch(/trend\s+\+\d+(\.\d)?M\/day over 1 day \(2 points\): full in ~(<?\d+) days? — grow soon: grow it: `sudo lychd-crypt (--\S+ \S+ )*resize --size \+\d+G`/);

    const doctor = await cli(fx.root, ['--json', 'doctor']);
    const trend = doctor.json.checks.find((c: { id: string }) => c.id === 'space.trend');
    expect(trend.status).toBe('advice');
    expect(trend.finding).toMatch(/^grow soon: /);
    expect(JSON.stringify(trend)).toMatch(/resize --size \+\d+G/);
  });
});
