// The scheduled snapshot replicates after it snapshots (replicate.schedule: after-snapshot, a system crypt):
// each run sends incrementally, the local prune keeps the target's newest copy (the base of the next
// incremental) whatever its policy says, the target's retention runs after a successful send, and a run
// whose replication fails keeps its snapshot, says why and exits 1.
import { describe, expect, test } from 'vitest';
import { appendFile, chmod, readdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { mountScratchFs, sh } from '../helpers/host.js';
import { skipReason } from '../helpers/env.js';
import { cliSuite } from '../helpers/suite.js';
import { makeCryptFixture, reconfigure } from '../helpers/crypt-fixture.js';
import { cli } from '../helpers/snap.js';
import { fileTarget, pathTarget } from '../helpers/replica.js';

const skip = skipReason('root', 'btrfs', 'loop');

describe.skipIf(skip)(`scheduled replication ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('after-snapshot: incremental each run, the replica base kept locally, target retention after the send; a failed send fails the run, not the snapshot', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    const disk = scratch.path('disk');
    await mountScratchFs(scratch, 'btrfs', disk, 300);
    const dir = path.join(disk, 'lychd', 'fx');
    await reconfigure(fx, {
      ...fx.config,
      retention: { keepLast: 1 },
      replicate: { schedule: 'after-snapshot', targets: [pathTarget(dir, { retention: { keepLast: 2 } })] },
    });
    const scheduled = async () => {
      // One snapshot per second: names of the same second get a suffix, which sorts apart from time order.
      await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
      await appendFile(path.join(fx.paths.active, 'data'), randomBytes(1 << 20));
      return cli(fx.root, ['--json', 'snapshot', '--scheduled']);
    };
    const local = async () => (await readdir(fx.paths.snapshots)).filter((n) => !n.endsWith('.json')).sort();
    const copies = async () => (await readdir(dir)).filter((n) => !n.startsWith('.') && !n.endsWith('.json')).sort();

    const r1 = await scheduled();
    expect(r1.code, r1.stderr + r1.stdout).toBe(0);
    const s1 = r1.json.snapshot.name as string;
    expect(r1.json.replication).toMatchObject({ ok: true });
    expect(r1.json.replication.summary).toMatch(/^disk ok \(sent 1, /);
    expect(await copies()).toEqual([s1]);

    // keepLast 1 would delete s1 before the send; it is the target's newest copy, so it stays and s2 goes incrementally.
    const r2 = await scheduled();
    expect(r2.code, r2.stderr + r2.stdout).toBe(0);
    const s2 = r2.json.snapshot.name as string;
    expect(r2.json.pruned).toEqual([]);
    const list = await cli(fx.root, ['--json', 'replicate', '--list']);
    expect(list.json.targets.disk).toMatchObject({ ok: true, sent: [s2], newest: { name: s2 } });
    const status = await cli(fx.root, ['--json', 'status']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.stringify(status.json)).toContain(s2);
    expect(await copies()).toEqual([s1, s2]);
    const dry = await cli(fx.root, ['--json', 'prune', '--dry-run']);
    expect(dry.json.decisions.find((d: { name: string }) => d.name === s2)).toMatchObject({ action: 'keep' });

    // The third run: s1 goes locally (no longer a base), and on the target by its retention, after the send.
    const r3 = await scheduled();
    expect(r3.code, r3.stderr + r3.stdout).toBe(0);
    const s3 = r3.json.snapshot.name as string;
    expect(r3.json.pruned).toEqual([s1]);
    expect(r3.json.replication.summary).toMatch(/deleted 1\)$/);
    expect(await copies()).toEqual([s2, s3]);
    expect(await local()).toEqual([s2, s3]);

    // The target refuses (not root's 0700 any more): the snapshot is kept, the run fails with the reason.
    await chmod(dir, 0o755);
    const r4 = await scheduled();
    expect(r4.code).toBe(1);
    const s4 = r4.json.snapshot.name as string;
    expect(r4.json.replication).toMatchObject({ ok: false });
    expect(await local()).toEqual([s3, s4]);
    const runs = await cli(fx.root, ['--json', 'status']);
    expect(JSON.stringify(runs.json)).toMatch(/replication FAILED: disk FAILED/);
  });

  test('a local target whose directory cannot be made (the service\'s read-only file system): the reason and what to do', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    const disk = scratch.path('disk');
    await mountScratchFs(scratch, 'btrfs', disk, 300);
    sh(['mount', '-o', 'remount,ro', disk]);
    await reconfigure(fx, { ...fx.config, replicate: { schedule: false, targets: [fileTarget(path.join(disk, 'lychd', 'fx'))] } });
    await cli(fx.root, ['snapshot']);
    const r = await cli(fx.root, ['--json', 'replicate']);
    expect(r.code).toBe(1);
    expect(r.json.targets[0].error.message).toMatch(/^could not make the target directory .*\/lychd\/fx: the file system there is read-only, or a parent is missing \((ENOENT|EROFS)\); nothing was sent/);
    expect(r.json.targets[0].error.hint).toMatch(/mkdir -p .*\/lychd\/fx/);
    // The text says it too, with what to do.
    const text = await cli(fx.root, ['replicate']);
    expect(text.stdout).toMatch(/FAILED: could not make the target directory[^\n]*\n  Make it by hand \(mkdir -p /);
  });
});
