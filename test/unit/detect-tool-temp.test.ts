// A power cut in the middle of writing the mount record leaves writeFileAtomic's temp file in the crypt
// path's directory; the next init must not take it for data to migrate (found by the init power-cut test).
import { describe, expect, it } from 'vitest';
import { TOOL_TEMP } from '../../src/install/detect/host.js';

describe('our own temp files are not data', () => {
  it('matches the temp names of the mount record and the migration marker only', () => {
    expect(TOOL_TEMP.test('..lychd-crypt-mount.json.3fa9c2d1.tmp')).toBe(true);
    expect(TOOL_TEMP.test('..lychd-crypt-migrating.json.00ff.tmp')).toBe(true);
    for (const n of ['.lychd-crypt-mount.json', 'notes.txt', '..lychd-crypt-mount.json.tmp', '..other.json.3fa9.tmp']) expect(TOOL_TEMP.test(n)).toBe(false);
  });
});
