// file:// targets: zstd streams with sidecars in a plain directory (any filesystem). Chains rotate to a new
// full every fullEvery incrementals; a chain with one stream deleted is detected and the next run re-bases on a new full and removes what can no longer be restored; interrupted writes
// (.partial, a stream without its sidecar) are removed; --verify finds a damaged stream; and status --check
// --max-replica-age raises the lag alarm.
import { describe, expect, test } from 'vitest';
import { appendFile, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { skipReason } from '../helpers/env.js';
import { cliSuite } from '../helpers/suite.js';
import { makeCryptFixture, reconfigure, type CryptFixture } from '../helpers/crypt-fixture.js';
import { cli } from '../helpers/snap.js';
import { fileTarget } from '../helpers/replica.js';
import { readMeta, writeMeta } from '../../src/runtime/snapshots/meta.js';

const skip = skipReason('root', 'btrfs', 'loop');

async function snap(fx: CryptFixture, data = 256 << 10): Promise<string> {
  await appendFile(path.join(fx.paths.active, 'data'), randomBytes(data));
  const r = await cli(fx.root, ['--json', 'snapshot']);
  expect(r.code, r.stderr).toBe(0);
  return r.json.snapshot.name as string;
}

const replicate = async (fx: CryptFixture, ...args: string[]) => {
  const r = await cli(fx.root, ['--json', 'replicate', ...args]);
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return r.json.targets[0];
};

const files = async (dir: string) => (await readdir(dir)).sort();

describe.skipIf(skip)(`replicate to file:// ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('rotation every fullEvery; a deleted stream breaks its chain: re-based on a new full, the broken part removed', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    const dir = scratch.path('bucket', 'fx');
    await reconfigure(fx, { ...fx.config, replicate: { schedule: false, targets: [fileTarget(dir, { fullEvery: 2 })] } });

    const s = [await snap(fx, 2 << 20)];
    expect((await replicate(fx)).sent).toMatchObject([{ name: s[0], kind: 'full' }]);
    for (let i = 1; i <= 3; i++) s.push(await snap(fx));
    const t = await replicate(fx);
    // Two incrementals after the full, then the third would exceed fullEvery: a new full.
    expect(t.plan.sends.map((x: { name: string; kind: string; chain: { index: number } }) => [x.name, x.kind, x.chain.index])).toEqual([
      [s[1], 'incremental', 1],
      [s[2], 'incremental', 2],
      [s[3], 'full', 0],
    ]);
    expect(t.plan.sends[2].reason).toMatch(/^rotation: 2 incrementals since the last full/);
    expect(await files(dir)).toEqual(s.flatMap((n) => [`${n}.btrfs.zst`, `${n}.json`]).sort());
    const side = JSON.parse(await readFile(path.join(dir, `${s[2]}.json`), 'utf8'));
    expect(side).toMatchObject({ format: 1, snapshot: { name: s[2] }, stream: { file: `${s[2]}.btrfs.zst`, compression: 'zstd' }, chain: { full: s[0], index: 2 } });
    expect(side.stream.sha256).toMatch(/^[0-9a-f]{64}$/);
    // Each full is a real zstd-compressed btrfs stream.
    expect((await readFile(path.join(dir, `${s[3]}.btrfs.zst`))).subarray(0, 4).toString('hex')).toBe('28b52ffd');

    // One stream of the second chain is lost: s[4] (after s[3]'s full) and everything after it break.
    s.push(await snap(fx));
    s.push(await snap(fx));
    await reconfigure(fx, { ...fx.config, replicate: { schedule: false, targets: [fileTarget(dir, { fullEvery: 30 })] } });
    expect((await replicate(fx)).sent.map((x: { kind: string }) => x.kind)).toEqual(['incremental', 'incremental']);
    await unlink(path.join(dir, `${s[4]}.btrfs.zst`));
    // Interrupted writes are removed, never counted.
    await writeFile(path.join(dir, '20300101T000000Z.btrfs.zst.partial'), 'half');
    await writeFile(path.join(dir, '20300102T000000Z.btrfs.zst'), 'no sidecar');
    const dry = await replicate(fx, '--dry-run');
    expect(dry.cleaned.sort()).toEqual(['20300101T000000Z.btrfs.zst.partial', '20300102T000000Z.btrfs.zst']);
    // The newest copy can no longer be restored: re-based on a new full of the newest snapshot (the broken
    // copy of that name is replaced), and the broken one before it removed once that full is there.
    expect(dry.plan.sends).toMatchObject([{ name: s[5], kind: 'full', parent: null }]);
    expect(dry.plan.sends[0].reason).toMatch(new RegExp(`^re-base: ${s[5]} cannot be restored \\(the chain is broken at ${s[4]}: its stream .* is missing\\)`));
    expect(dry.plan.deletes).toMatchObject([{ name: s[4], broken: true }]);
    const rebased = await replicate(fx);
    expect(rebased.sent).toMatchObject([{ name: s[5], kind: 'full' }]);
    expect(rebased.deleted).toEqual([s[4]]);
    expect(await files(dir)).toEqual([...s.slice(0, 4), s[5]!].flatMap((n) => [`${n}.btrfs.zst`, `${n}.json`]).sort());
    const chain = JSON.parse(await readFile(path.join(scratch.path('state'), 'fx', 'replication.json'), 'utf8')).targets.bucket.chain;
    expect(chain).toEqual({ intact: true, sinceFull: 0, broken: [] });
  });

  test('--verify finds a damaged stream of the right size; status --check warns about the chain and the lag', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    const dir = scratch.path('bucket', 'fx');
    await reconfigure(fx, { ...fx.config, replicate: { schedule: false, targets: [fileTarget(dir)] } });
    const s1 = await snap(fx, 1 << 20);
    const s2 = await snap(fx);
    // The newest snapshot was taken three hours ago (as if replication had stopped since).
    for (const n of [s1, s2]) {
      const m = (await readMeta(fx.paths, n))!;
      m.createdAt = new Date(Date.parse(m.createdAt) - 3 * 3_600_000).toISOString();
      await writeMeta(fx.paths, m);
    }
    await replicate(fx);

    const check = (...args: string[]) => cli(fx.root, ['status', '--check', '--max-age', '4h', ...args]);
    expect((await check('--max-replica-age', '4h')).code).toBe(0);
    const warn = await check('--max-replica-age', '2h');
    expect(warn.code, warn.stdout).toBe(1);
    expect(warn.stdout).toMatch(/^LYCHD-CRYPT WARNING - target bucket: newest copy older than 2h .*replica_age_bucket=\d+s;7200;14400;0/);
    const crit = await check('--max-replica-age', '1h');
    expect(crit.code).toBe(2);
    expect(crit.stdout).toMatch(/CRITICAL - target bucket: newest copy older than 2h/);
    // Without the flag targets are not judged.
    expect((await check()).code).toBe(0);

    // A byte of the first stream flipped, its size unchanged: only a full check sees it.
    const f = path.join(dir, `${s1}.btrfs.zst`);
    const bytes = await readFile(f);
    bytes[bytes.length - 8]! ^= 0xff;
    await writeFile(f, bytes);
    expect((await replicate(fx)).plan.sends).toEqual([]);
    const verified = await replicate(fx, '--verify');
    // The newest (s2) depends on s1: the chain is broken and a new full is sent in its place.
    expect(verified.plan.sends).toMatchObject([{ name: s2, kind: 'full' }]);
    expect(verified.plan.sends[0].reason).toMatch(/does not match its checksum/);
    const prom = scratch.path('metrics.prom');
    const st = await cli(fx.root, ['status', '--prometheus', prom]);
    expect(st.code, st.stderr).toBe(0);
    const text = await readFile(prom, 'utf8');
    expect(text).toMatch(/^lychd_crypt_replica_copies\{crypt="[^"]+",target="bucket"\} 1$/m);
    expect(text).toMatch(/^lychd_crypt_replica_chain_intact\{crypt="[^"]+",target="bucket"\} 1$/m);
    expect(text).toMatch(/^lychd_crypt_replica_last_run_success\{crypt="[^"]+",target="bucket"\} 1$/m);
    expect(st.stdout).toMatch(/replica bucket +file:\/\/.* newest .*, 1 copy, last run ok/);
  });
});
