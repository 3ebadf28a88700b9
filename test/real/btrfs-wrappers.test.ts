// The btrfs wrappers on a real loop filesystem: snapshot, show, nested-subvolume probe, delete.
import { describe, expect, test } from 'vitest';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';
import { mountScratchFs, sh } from '../helpers/host.js';
import { createRunner } from '../../src/base/runner.js';
import { subvolumeDelete, subvolumeShow, subvolumeSnapshot } from '../../src/base/btrfs/subvolume.js';
import { isSubvolume, listNestedFast, listNestedSubvolumes } from '../../src/base/btrfs/probe.js';
import { classifyError, ReadOnlyFsError } from '../../src/base/expected-errors.js';
import { NotFollowedError } from '../../src/base/sys/fd.js';

const skip = skipReason('root', 'btrfs', 'loop');
const scratches = scratchSuite();
let scratch: Scratch | undefined;

describe.skipIf(skip)(`btrfs wrappers ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('snapshot -r, show, nested probe, delete', async () => {
    scratch = await scratches.scratch();
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
    const spy = { run: (argv: string[], o?: object) => (seen.push(argv), runner.run(argv, o)), spawn: runner.spawn };
    expect(await listNestedSubvolumes(active, spy)).toEqual(expected); // btrfs + mountinfo
    expect(seen).toContainEqual(['btrfs', 'subvolume', 'list', '-o', active]);
    expect(await listNestedFast(active, runner)).toEqual(expected); // the fast path itself, not a fallback
    sh(['umount', path.join(active, 'mnt')]);
    sh(['btrfs', 'subvolume', 'delete', path.join(active, 'postgres/pg_wal/nested/deeper')]);
    sh(['btrfs', 'subvolume', 'delete', path.join(active, 'postgres/pg_wal/nested')]);
    expect(await listNestedSubvolumes(active, runner)).toEqual([]);

    const snap = path.join(fs, 's1');
    await subvolumeSnapshot(active, snap, { readonly: true });
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

  // The snapshot is one ioctl (BTRFS_IOC_SNAP_CREATE_V2), not `btrfs subvolume snapshot`: it must make what
  // btrfs-progs makes, refuse what it refuses, and fail with the errno classified as the expected error.
  test('snapshot ioctl: read-only and writable, contents, refusals, errors as expected kinds', async () => {
    scratch = await scratches.scratch();
    const fs = scratch.path('fs');
    await mountScratchFs(scratch, 'btrfs', fs);
    const active = path.join(fs, 'active');
    sh(['btrfs', 'subvolume', 'create', active]);
    await writeFile(path.join(active, 'data'), 'one');
    await mkdir(path.join(fs, 'snaps'));

    await subvolumeSnapshot(active, path.join(fs, 'snaps/ro'), { readonly: true });
    await subvolumeSnapshot(active, path.join(fs, 'snaps/rw'), { readonly: false });
    expect(sh(['btrfs', 'property', 'get', '-ts', path.join(fs, 'snaps/ro'), 'ro']).trim()).toBe('ro=true');
    expect(sh(['btrfs', 'property', 'get', '-ts', path.join(fs, 'snaps/rw'), 'ro']).trim()).toBe('ro=false');
    const parent = sh(['btrfs', 'subvolume', 'show', active]).match(/UUID:\s+(\S+)/)![1];
    expect(sh(['btrfs', 'subvolume', 'show', path.join(fs, 'snaps/ro')])).toMatch(new RegExp(`Parent UUID:\\s+${parent}`));
    expect(await readFile(path.join(fs, 'snaps/ro/data'), 'utf8')).toBe('one');
    await writeFile(path.join(fs, 'snaps/rw/data'), 'two'); // writable, and independent of active/
    expect(await readFile(path.join(active, 'data'), 'utf8')).toBe('one');

    // An existing name, a symbolic link where the parent directory should be, and a source that is not a
    // subvolume root are refused; nothing is created.
    await expect(subvolumeSnapshot(active, path.join(fs, 'snaps/ro'), { readonly: true })).rejects.toMatchObject({ code: 'EEXIST' });
    await symlink(path.join(fs, 'snaps'), path.join(fs, 'link'));
    await expect(subvolumeSnapshot(active, path.join(fs, 'link/x'), { readonly: true })).rejects.toBeInstanceOf(NotFollowedError);
    await mkdir(path.join(active, 'plain'));
    await expect(subvolumeSnapshot(path.join(active, 'plain'), path.join(fs, 'snaps/p'), { readonly: true })).rejects.toThrow(/snapshot .*plain.* failed/);
    expect((await readdir(path.join(fs, 'snaps'))).sort()).toEqual(['ro', 'rw']);

    // A read-only filesystem: EROFS, classified as the expected read-only error (exit code and hint).
    sh(['mount', '-o', 'remount,ro', fs]);
    const err = await subvolumeSnapshot(active, path.join(fs, 'snaps/late'), { readonly: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EROFS' });
    expect(classifyError(err)).toBeInstanceOf(ReadOnlyFsError);
    sh(['mount', '-o', 'remount,rw', fs]);
  });
});
