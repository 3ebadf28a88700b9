// `btrfs filesystem du -s --raw` parsing (output captured from btrfs-progs 6.2).
import { expect, test } from 'vitest';
import { parseFilesystemDu } from '../../src/base/btrfs/du.js';

test('the Exclusive column of the data line', () => {
  const out = '     Total   Exclusive  Set shared  Filename\n   3002368       40960     2961408  /tmp/m/snapshots/20261129T214800Z\n';
  expect(parseFilesystemDu(out)).toBe(40960);
  expect(parseFilesystemDu('     Total   Exclusive  Set shared  Filename\n')).toBeNull();
});
