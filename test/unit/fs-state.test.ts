// Parsing findmnt's option columns and btrfs device stats (recorded outputs).
import { describe, expect, it } from 'vitest';
import { parseDeviceStats, parseWritability } from '../../src/base/btrfs/fs-state.js';

const findmnt = (vfs: string, fs: string) => JSON.stringify({ filesystems: [{ 'vfs-options': vfs, 'fs-options': fs }] });

describe('parseWritability', () => {
  it('rw mount, rw superblock: writable', () => {
    expect(parseWritability(findmnt('rw,relatime', 'rw,ssd,space_cache=v2,subvolid=5,subvol=/'))).toEqual({ kind: 'rw' });
  });
  it('rw mount, ro superblock: Btrfs forced it read-only (recorded after a full host aborted a transaction)', () => {
    expect(parseWritability(findmnt('rw,relatime', 'ro,ssd,discard=async,space_cache=v2,subvolid=5,subvol=/'))).toEqual({ kind: 'forced-ro' });
  });
  it('ro mount: mounted read-only', () => {
    expect(parseWritability(findmnt('ro,relatime', 'ro,ssd,subvolid=5,subvol=/'))).toEqual({ kind: 'ro' });
  });
  it('nothing listed: unknown', () => {
    expect(parseWritability('{"filesystems":[]}').kind).toBe('unknown');
  });
});

describe('parseDeviceStats', () => {
  it('lists only devices with non-zero counters', () => {
    const out = [
      '[/dev/loop3].write_io_errs    0',
      '[/dev/loop3].read_io_errs     0',
      '[/dev/loop3].flush_io_errs    0',
      '[/dev/loop3].corruption_errs  0',
      '[/dev/loop3].generation_errs  0',
      '[/dev/sdb1].write_io_errs     2',
      '[/dev/sdb1].corruption_errs   7',
    ].join('\n');
    expect(parseDeviceStats(out)).toEqual([{ device: '/dev/sdb1', counters: { write_io_errs: 2, corruption_errs: 7 } }]);
    expect(parseDeviceStats(out.split('\n').slice(0, 5).join('\n'))).toEqual([]);
  });
});
