// Parsers of btrfs-progs output, on text captured from btrfs-progs 6.2.
import { describe, expect, test } from 'vitest';
import { parseSubvolumeShow } from '../../src/base/btrfs/subvolume.js';
import { parseQgroupShow, sysfsHasQgroups } from '../../src/base/btrfs/qgroup.js';

const SHOW = `s1
\tName: \t\t\ts1
\tUUID: \t\t\t01fe292b-6115-b149-a2f5-beb7d2cf4a92
\tParent UUID: \t\tf43ba0d6-7903-1149-83a1-bc40945f13e2
\tReceived UUID: \t\t-
\tCreation time: \t\t2026-11-24 00:57:31 +0000
\tSubvolume ID: \t\t257
\tGeneration: \t\t7
\tGen at creation: \t7
\tParent ID: \t\t5
\tTop level ID: \t\t5
\tFlags: \t\t\treadonly
\tSend transid: \t\t0
\tSnapshot(s):
`;

describe('btrfs output parsers', () => {
  test('subvolume show', () => {
    expect(parseSubvolumeShow(SHOW)).toEqual({
      uuid: '01fe292b-6115-b149-a2f5-beb7d2cf4a92',
      parentUuid: 'f43ba0d6-7903-1149-83a1-bc40945f13e2',
      id: 257,
      generation: 7,
      genAtCreation: 7,
      readonly: true,
    });
  });
  test('subvolume show of a writable subvolume without parent', () => {
    const info = parseSubvolumeShow(SHOW.replace('readonly', '-').replace(/Parent UUID: \t\t\S+/, 'Parent UUID: \t\t-'));
    expect(info.readonly).toBe(false);
    expect(info.parentUuid).toBeNull();
  });
  test('garbage is an error, not zeros', () => {
    expect(() => parseSubvolumeShow('ERROR: not a subvolume')).toThrow(/cannot parse/);
  });
  test('qgroup show --raw', () => {
    const text = 'Qgroupid    Referenced    Exclusive   Path \n--------    ----------    ---------   ---- \n0/5              16384        16384   <toplevel>\n0/256          1048576        65536   active\n1/100          1048576        65536   <under>\n';
    expect([...parseQgroupShow(text)]).toEqual([
      [5, 16384],
      [256, 65536],
    ]);
  });

  test('sysfs lists quota groups from Linux 5.9 on (so `list` can tell quotas are off without btrfs)', () => {
    expect(['6.18.44-fc-v782', '5.9.0', '5.15.0-91-generic', '6.1.0-13-amd64'].map(sysfsHasQgroups)).toEqual([true, true, true, true]);
    expect(['5.8.18', '4.19.0-25-amd64', '3.10.0-1160.el7.x86_64', ''].map(sysfsHasQgroups)).toEqual([false, false, false, false]);
  });
});
