// Target retention, by the crypt's own policy language, applied after a successful send: over ssh the
// receiver deletes what the policy drops (its `delete` verb; the newest copy never); on file:// a stream
// another kept stream depends on stays until a newer full makes it unneeded.
import { describe, expect, test } from 'vitest';
import { appendFile, readdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { skipReason } from '../helpers/env.js';
import { cliSuite } from '../helpers/suite.js';
import { makeCryptFixture, reconfigure, type CryptFixture } from '../helpers/crypt-fixture.js';
import { cli } from '../helpers/snap.js';
import { fileTarget, remoteEntries, sshTarget, startReceiver } from '../helpers/replica.js';

const skip = skipReason('root', 'btrfs', 'loop', 'sshd');

async function snap(fx: CryptFixture): Promise<string> {
  await appendFile(path.join(fx.paths.active, 'data'), randomBytes(128 << 10));
  const r = await cli(fx.root, ['--json', 'snapshot']);
  expect(r.code, r.stderr).toBe(0);
  return r.json.snapshot.name as string;
}

const replicate = async (fx: CryptFixture) => {
  const r = await cli(fx.root, ['--json', 'replicate']);
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return r.json.targets[0];
};

describe.skipIf(skip)(`target retention ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('over ssh: the policy\'s rejects deleted on the target after the send, the newest kept', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    const r = await startReceiver(scratch, suite.bundle, { sizeMiB: 300 });
    await reconfigure(fx, { ...fx.config, replicate: { schedule: false, targets: [sshTarget(r, { retention: { keepLast: 2 } })] } });
    const s = [await snap(fx), await snap(fx)];
    expect((await replicate(fx)).deleted).toEqual([]);
    s.push(await snap(fx));
    const t = await replicate(fx);
    expect(t.sent).toMatchObject([{ name: s[2], kind: 'incremental', parent: s[1] }]);
    expect(t.deleted).toEqual([s[0]]);
    expect(await remoteEntries(r.remote, r.dir)).toEqual([s[1], `${s[1]}.json`, s[2], `${s[2]}.json`].sort());
    // keepLast 1 keeps the newest only; the local snapshots are untouched by target retention.
    await reconfigure(fx, { ...fx.config, replicate: { schedule: false, targets: [sshTarget(r, { retention: { keepLast: 1 } })] } });
    expect((await replicate(fx)).deleted).toEqual([s[1]]);
    expect(await remoteEntries(r.remote, r.dir)).toEqual([s[2], `${s[2]}.json`]);
    expect((await readdir(fx.paths.snapshots)).filter((n) => !n.endsWith('.json')).sort()).toEqual(s);
  });

  test('file://: a stream a kept one depends on stays; after a new full the old chain goes', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    const dir = scratch.path('bucket', 'fx');
    await reconfigure(fx, { ...fx.config, replicate: { schedule: false, targets: [fileTarget(dir, { retention: { keepLast: 1 }, fullEvery: 1 })] } });
    const streams = async () => (await readdir(dir)).filter((n) => n.endsWith('.btrfs.zst')).map((n) => n.replace(/\.btrfs\.zst$/, '')).sort();
    const s1 = await snap(fx);
    await replicate(fx);
    const s2 = await snap(fx);
    const t2 = await replicate(fx);
    // keepLast 1 drops s1 by the policy, but s2 is an incremental on s1: s1 stays.
    expect(t2.sent).toMatchObject([{ name: s2, kind: 'incremental', parent: s1 }]);
    expect(t2.deleted).toEqual([]);
    expect(await streams()).toEqual([s1, s2]);
    const s3 = await snap(fx);
    const t3 = await replicate(fx);
    // fullEvery 1: s3 is a new full; the old chain is needed by nothing kept.
    expect(t3.sent).toMatchObject([{ name: s3, kind: 'full' }]);
    expect([...t3.deleted].sort()).toEqual([s1, s2]);
    expect(await streams()).toEqual([s3]);
    expect((await readdir(dir)).sort()).toEqual([`${s3}.btrfs.zst`, `${s3}.json`]);
  });
});
