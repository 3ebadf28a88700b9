// Writability from /proc/self/mountinfo (what findmnt shows as VFS-OPTIONS and FS-OPTIONS): read in-process
// because every snapshot asks; the mount found as findmnt finds it.
import { describe, expect, it } from 'vitest';
import { writabilityFromMountinfo } from '../../src/base/btrfs/fs-state.js';

const MOUNTINFO = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro',
  '90 22 0:50 / /srv/my\\040crypt rw,relatime shared:40 - btrfs /dev/loop3 rw,space_cache=v2,subvolid=5,subvol=/',
  '91 22 0:51 / /srv/forced rw,relatime shared:41 - btrfs /dev/loop4 ro,space_cache=v2,subvolid=5,subvol=/',
  '92 22 0:52 / /srv/stacked rw,relatime shared:42 - btrfs /dev/loop5 rw,subvolid=5,subvol=/',
  '93 92 0:53 / /srv/stacked ro,relatime shared:43 - btrfs /dev/loop6 ro,subvolid=5,subvol=/',
  '',
].join('\n');

describe('writability from mountinfo', () => {
  it('reads the mount point exactly, octal escapes decoded; the last mount of a stack counts', () => {
    expect(writabilityFromMountinfo(MOUNTINFO, '/srv/my crypt', '--mountpoint')).toEqual({ kind: 'rw' });
    expect(writabilityFromMountinfo(MOUNTINFO, '/srv/forced', '--mountpoint')).toEqual({ kind: 'forced-ro' });
    expect(writabilityFromMountinfo(MOUNTINFO, '/srv/stacked', '--mountpoint')).toEqual({ kind: 'ro' });
    expect(writabilityFromMountinfo(MOUNTINFO, '/srv/none', '--mountpoint').kind).toBe('unknown');
  });

  it('--target finds the nearest enclosing mount', () => {
    expect(writabilityFromMountinfo(MOUNTINFO, '/srv/forced/active/postgres', '--target')).toEqual({ kind: 'forced-ro' });
    expect(writabilityFromMountinfo(MOUNTINFO, '/srv/other', '--target')).toEqual({ kind: 'rw' });
  });
});
