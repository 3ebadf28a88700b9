// The space estimate is pure: what each operation writes and the reserve kept after it.
import { describe, expect, it } from 'vitest';
import { estimateSpace, metadataMargin, threshold } from '../../src/runtime/space/estimate.js';

const MiB = 2 ** 20;

describe('estimateSpace', () => {
  it('a bracket snapshot costs two WAL segments plus metadata, and keeps two segments and a metadata margin free', () => {
    const n = estimateSpace('snapshot', { walSegmentBytes: 16 * MiB, totalBytes: 256 * MiB });
    expect(n.needBytes).toBe(33 * MiB);
    expect(n.reserveBytes).toBe(40 * MiB);
    expect(threshold(n)).toBe(73 * MiB);
  });
  it('follows the cluster\'s wal_segment_size', () => {
    expect(estimateSpace('snapshot', { walSegmentBytes: 64 * MiB, totalBytes: 10 * 2 ** 30 }).needBytes).toBe(129 * MiB);
  });
  it('without a database only metadata counts', () => {
    const n = estimateSpace('snapshot', { walSegmentBytes: null, totalBytes: 256 * MiB });
    expect(threshold(n)).toBe(9 * MiB);
  });
  it('verify and rollback cost more than a snapshot', () => {
    const f = { walSegmentBytes: 16 * MiB, totalBytes: 2 ** 30 };
    expect(estimateSpace('verify', f).needBytes).toBeGreaterThan(estimateSpace('snapshot', f).needBytes);
    expect(estimateSpace('rollback', f).needBytes).toBeGreaterThan(estimateSpace('snapshot', f).needBytes);
  });
  it('the metadata margin is 1% of the filesystem, between 8 and 256 MiB', () => {
    expect(metadataMargin(100 * MiB)).toBe(8 * MiB);
    expect(metadataMargin(10 * 2 ** 30)).toBeCloseTo(102.4 * MiB, -3);
    expect(metadataMargin(2 ** 40)).toBe(256 * MiB);
  });
});
