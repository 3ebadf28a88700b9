// The free-space floor on a small real image with PostgreSQL running: snapshots pile up until the floor
// trips; the scheduled run prunes the oldest unprotected ones until above it (pins stay); when pruning
// cannot help it skips the snapshot with exit 1 and a reason — no ENOSPC, and PostgreSQL keeps running.
import { describe, expect, test } from 'vitest';
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { reconfigure } from '../helpers/crypt-fixture.js';
import { skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';
import { sh } from '../helpers/host.js';
import { cli, cryptWithServer } from '../helpers/snap.js';
import { readSnapshotDir } from '../../src/runtime/snapshots/meta.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');
const scratches = scratchSuite();
let scratch: Scratch | undefined;

const MiB = 2 ** 20;

describe.skipIf(skip)(`free-space floor ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('prunes to the floor, then skips when pruning cannot help; PostgreSQL keeps running', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15, { fixture: { sizeMiB: 512 } });
    const floorPercent = 35;
    await reconfigure(fx, { ...fx.config, space: { minFree: { percent: floorPercent } } });
    const space = async () => {
      sh(['btrfs', 'subvolume', 'sync', fx.paths.snapshots]); // deleted snapshots' space comes back in the background
      sh(['btrfs', 'filesystem', 'sync', fx.root]);
      const s = await statfs(fx.root);
      return { free: Number(s.bavail) * Number(s.bsize), size: Number(s.blocks) * Number(s.bsize) };
    };
    const floor = async () => ((await space()).size * floorPercent) / 100;
    const ballast = path.join(fx.paths.active, 'ballast');
    // Rewriting random (incompressible) data between snapshots leaves each snapshot holding its own copy.
    const rewrite = () => sh(['dd', 'if=/dev/urandom', `of=${ballast}`, 'bs=1M', 'count=40', 'conv=fsync', 'status=none']);

    const taken: string[] = [];
    for (let i = 0; i < 12 && (await space()).free >= (await floor()); i++) {
      rewrite();
      const r = await cli(fx.root, ['--json', 'snapshot', ...(i === 1 ? ['--pin'] : [])]);
      expect(r.code, r.stderr).toBe(0);
      taken.push(r.json.snapshot.name);
    }
    expect((await space()).free).toBeLessThan(await floor());
    const pinned = taken[1]!;

    // A manual snapshot below the floor still happens, with a warning.
    rewrite();
    const manual = await cli(fx.root, ['--json', 'snapshot']);
    expect(manual.code, manual.stderr).toBe(0);
    expect(manual.stderr).toMatch(/warning: free space .* is below the floor 35%/);
    taken.push(manual.json.snapshot.name);

    // The scheduled run prunes the oldest unprotected snapshots until above the floor, then snapshots.
    const run = await cli(fx.root, ['--json', 'snapshot', '--scheduled']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json.floorPruned.length).toBeGreaterThan(0);
    expect(run.json.floorPruned).not.toContain(pinned);
    expect(run.json.floorPruned).toEqual(taken.filter((n) => n !== pinned).slice(0, run.json.floorPruned.length)); // oldest first
    expect(run.json.snapshot.label).toBe('scheduled');
    const left = (await readSnapshotDir(fx.paths)).complete.map((m) => m.name);
    expect(left).toContain(pinned);
    expect(left).toContain(run.json.snapshot.name);
    expect(left).toContain(taken.at(-1));

    // Keep only what is protected, then fill active/ itself below the floor: pruning cannot help.
    expect((await cli(fx.root, ['prune', '--keep-last', '1'])).code).toBe(0);
    // Btrfs's free figure settles late (space of deleted extents returns after commits), so fill until it
    // is measured below the floor rather than trusting one reading.
    for (let i = 0; i < 8; i++) {
      const now = await space();
      if (now.free < (await floor()) * 0.75) break;
      const fill = Math.max(1, Math.floor((now.free - (await floor()) / 2) / MiB));
      sh(['dd', 'if=/dev/urandom', `of=${path.join(fx.paths.active, `big-${i}`)}`, 'bs=1M', `count=${fill}`, 'conv=fsync', 'status=none']);
    }
    expect((await space()).free).toBeLessThan(await floor());
    const before = (await readSnapshotDir(fx.paths)).complete.map((m) => m.name);
    const skipped = await cli(fx.root, ['snapshot', '--scheduled']);
    expect(skipped.code, `${skipped.stdout}\n${skipped.stderr}`).toBe(1);
    expect(skipped.stderr).toMatch(/^lychd-crypt: skipped the scheduled snapshot: free space .* is below the floor 35%/m);
    expect(skipped.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect((await readSnapshotDir(fx.paths)).complete.map((m) => m.name)).toEqual(before);

    // status reports the skipped run; PostgreSQL is alive and writable.
    const status = await cli(fx.root, ['--json', 'status']);
    expect(status.json.runs.scheduled).toMatchObject({ ok: false, summary: expect.stringMatching(/^skipped the scheduled snapshot/) });
    const check = await cli(fx.root, ['status', '--check', '--min-free', '35%']);
    expect([1, 2]).toContain(check.code); // below the floor (by how much decides WARNING or CRITICAL)
    expect(check.stdout).toMatch(/free space .* below .*; last scheduled run: skipped the scheduled snapshot/);
    const c = await server.connect();
    try {
      await c.query('create table if not exists t(x int)');
      await c.query('insert into t values (1)');
      expect((await c.query('select count(*)::int as n from t')).rows[0].n).toBe(1);
    } finally {
      await c.end();
    }
  });
});
