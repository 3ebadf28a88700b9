// Replication to a directory on a second Btrfs filesystem of the same host (a path target): full, then
// incrementals matched by origin UUID (received UUID), a run with nothing to send, target retention that
// never deletes the newest copy, a half-received copy removed and never listed, a copy changed after it
// was received no longer counted, and a target on the crypt's own filesystem refused.
import { describe, expect, test } from 'vitest';
import { appendFile, readdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { sh, mountScratchFs } from '../helpers/host.js';
import { skipReason } from '../helpers/env.js';
import { cliSuite } from '../helpers/suite.js';
import { makeCryptFixture, reconfigure, type CryptFixture } from '../helpers/crypt-fixture.js';
import { cli } from '../helpers/snap.js';
import { pathTarget } from '../helpers/replica.js';

const skip = skipReason('root', 'btrfs', 'loop');

const receivedUuid = (p: string): string => /Received UUID:\s*(\S+)/.exec(sh(['btrfs', 'subvolume', 'show', p]))![1]!;
const uuidOf = (p: string): string => /^\s*UUID:\s*(\S+)/m.exec(sh(['btrfs', 'subvolume', 'show', p]))![1]!;

async function snap(fx: CryptFixture, data?: number): Promise<string> {
  if (data) await appendFile(path.join(fx.paths.active, 'data'), randomBytes(data));
  const r = await cli(fx.root, ['--json', 'snapshot']);
  expect(r.code, r.stderr).toBe(0);
  return r.json.snapshot.name as string;
}

describe.skipIf(skip)(`replicate to a path target ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('full then incremental by received UUID; up to date; retention on the target keeps the newest; leftovers removed', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    const disk = scratch.path('disk');
    await mountScratchFs(scratch, 'btrfs', disk, 300);
    const dir = path.join(disk, 'lychd', 'fx');
    await reconfigure(fx, { ...fx.config, replicate: { schedule: false, targets: [pathTarget(dir)] } });

    const s1 = await snap(fx, 4 << 20);
    const dry = await cli(fx.root, ['--json', 'replicate', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json.targets[0].plan.sends).toMatchObject([{ name: s1, kind: 'full', parent: null }]);
    expect(dry.json.targets[0].plan.sends[0].estimatedBytes).toBeGreaterThan(4 << 20);

    const first = await cli(fx.root, ['--json', 'replicate']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json.targets[0].sent).toMatchObject([{ name: s1, kind: 'full' }]);
    // The target directory was made: root's, 0700, a subvolume of its own.
    expect(sh(['stat', '-c', '%U %a', dir]).trim()).toBe('root 700');
    expect(receivedUuid(path.join(dir, s1))).toBe(uuidOf(path.join(fx.paths.snapshots, s1)));

    await writeFile(path.join(fx.paths.active, 'small'), 'after s1\n');
    const s2 = await snap(fx, 64 << 10);
    const s3 = await snap(fx);
    const second = await cli(fx.root, ['--json', 'replicate']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.json.targets[0].plan.common.name).toBe(s1);
    expect(second.json.targets[0].sent).toMatchObject([
      { name: s2, kind: 'incremental', parent: s1 },
      { name: s3, kind: 'incremental', parent: s2 },
    ]);
    expect(second.json.targets[0].sent[0].bytes).toBeLessThan(first.json.targets[0].sent[0].bytes / 10);
    expect(sh(['cat', path.join(dir, s3, 'small')])).toBe('after s1\n');

    const again = await cli(fx.root, ['replicate']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/up to date: nothing to send or delete/);

    // Retention on the target: the newest two only. s1 goes, the newest never.
    await reconfigure(fx, { ...fx.config, replicate: { schedule: false, targets: [pathTarget(dir, { retention: { keepLast: 2 } })] } });
    const s4 = await snap(fx);
    const pruned = await cli(fx.root, ['--json', 'replicate']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.json.targets[0].deleted.sort(), pruned.stdout).toEqual([s1, s2]);
    expect((await readdir(dir)).filter((n) => !n.startsWith('.')).sort()).toEqual([s3, `${s3}.json`, s4, `${s4}.json`].sort());

    // A half-received copy (what a killed transfer leaves: writable, no received UUID) is removed, never listed.
    sh(['btrfs', 'subvolume', 'create', path.join(dir, '20300101T000000Z')]);
    await writeFile(path.join(dir, '20300102T000000Z.json'), '{}');
    const cleaned = await cli(fx.root, ['--json', 'replicate']);
    expect(cleaned.code, cleaned.stderr).toBe(0);
    expect(cleaned.json.targets[0].cleaned.sort()).toEqual(['20300101T000000Z', '20300102T000000Z.json']);
    expect(cleaned.json.targets[0].held).toBe(2);

    // A copy changed after it was received (made writable behind receive's back, written) is not a copy any more.
    sh(['btrfs', 'property', 'set', '-f', path.join(dir, s4), 'ro', 'false']);
    await writeFile(path.join(dir, s4, 'tampered'), 'x');
    sh(['btrfs', 'property', 'set', path.join(dir, s4), 'ro', 'true']);
    const resent = await cli(fx.root, ['--json', 'replicate']);
    expect(resent.code, resent.stderr).toBe(0);
    expect(resent.json.targets[0].cleaned).toEqual([s4]);
    expect(resent.json.targets[0].sent).toMatchObject([{ name: s4, kind: 'incremental', parent: s3 }]);

    // The record status and --list read.
    const list = await cli(fx.root, ['replicate', '--list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(`  ${s4}`);
  });

  test('a target on the crypt\'s own filesystem is refused; an unknown --target is bad input', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    await reconfigure(fx, { ...fx.config, replicate: { schedule: false, targets: [pathTarget(path.join(fx.root, 'copies'))] } });
    await snap(fx);
    const r = await cli(fx.root, ['replicate']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/on the crypt's own filesystem/);
    const u = await cli(fx.root, ['replicate', '--target', 'nope']);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/no target named "nope"; the targets are: disk/);
  });
});

