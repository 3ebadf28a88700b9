// The btrfs wrappers on a real loop filesystem: snapshot, show, nested-subvolume probe, delete.
import { afterEach, describe, expect, test } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { skipReason } from '../helpers/env.js';
import { makeScratch, type Scratch } from '../helpers/scratch.js';
import { mountScratchFs, sh } from '../helpers/host.js';
import { createRunner } from '../../src/core/runner.js';
import { subvolumeDelete, subvolumeShow, subvolumeSnapshot } from '../../src/btrfs/subvolume.js';
import { isSubvolume, listNestedFast, listNestedSubvolumes } from '../../src/btrfs/probe.js';

const skip = skipReason('root', 'btrfs', 'loop');
let scratch: Scratch | undefined;
afterEach(async () => {
  await scratch?.cleanup();
  scratch = undefined;
});

describe.skipIf(skip)(`btrfs wrappers ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('snapshot -r, show, nested probe, delete', async () => {
    scratch = await makeScratch();
    const fs = scratch.path('fs');
    await mountScratchFs(scratch, 'btrfs', fs);
    const runner = createRunner();
    const active = path.join(fs, 'active');
    sh(['btrfs', 'subvolume', 'create', active]);
    await mkdir(path.join(active, 'postgres/pg_wal'), { recursive: true });
    await writeFile(path.join(active, 'postgres/file'), 'x');
    expect(await isSubvolume(active)).toBe(true);
    expect(await isSubvolume(path.join(active, 'postgres'))).toBe(false);
    expect(await isSubvolume(path.join(active, 'postgres/file'))).toBe(false);
    expect(await isSubvolume(path.join(active, 'missing'))).toBe(false);
    expect(await listNestedSubvolumes(active)).toEqual([]);

    expect(await listNestedSubvolumes(active, runner)).toEqual([]);

    sh(['btrfs', 'subvolume', 'create', path.join(active, 'postgres/pg_wal/nested')]);
    sh(['btrfs', 'subvolume', 'create', path.join(active, 'postgres/pg_wal/nested/deeper')]);
    await mkdir(path.join(active, 'mnt'));
    await mountScratchFs(scratch, 'ext4', path.join(active, 'mnt'));
    const expected = [
      { path: 'mnt', kind: 'mount' },
      { path: 'postgres/pg_wal/nested', kind: 'subvolume' },
    ];
    expect(await listNestedSubvolumes(active)).toEqual(expected); // the walk
    const seen: string[][] = [];
    const spy = { run: (argv: string[], o?: object) => (seen.push(argv), runner.run(argv, o)) };
    expect(await listNestedSubvolumes(active, spy)).toEqual(expected); // btrfs + mountinfo
    expect(seen).toContainEqual(['btrfs', 'subvolume', 'list', '-o', active]);
    expect(await listNestedFast(active, runner)).toEqual(expected); // the fast path itself, not a fallback
    sh(['umount', path.join(active, 'mnt')]);
    sh(['btrfs', 'subvolume', 'delete', path.join(active, 'postgres/pg_wal/nested/deeper')]);
    sh(['btrfs', 'subvolume', 'delete', path.join(active, 'postgres/pg_wal/nested')]);
    expect(await listNestedSubvolumes(active, runner)).toEqual([]);

    const snap = path.join(fs, 's1');
    await subvolumeSnapshot(runner, active, snap, { readonly: true });
    const a = await subvolumeShow(runner, active);
    const s = await subvolumeShow(runner, snap);
    expect(s.readonly).toBe(true);
    expect(a.readonly).toBe(false);
    expect(s.parentUuid).toBe(a.uuid);
    expect(s.generation).toBeGreaterThan(0);
    expect(await isSubvolume(snap)).toBe(true);

    await subvolumeDelete(runner, snap);
    expect(await isSubvolume(snap)).toBe(false);
  });
});
