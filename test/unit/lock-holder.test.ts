// /proc/locks parsing: the holder of an exclusive flock, not a waiter, not a POSIX lock.
import { describe, expect, it } from 'vitest';
import { flockHolder } from '../../src/base/crypt/lock-holder.js';

const LOCKS = [
  '1: POSIX  ADVISORY  WRITE 900 00:2a:258 0 EOF',
  '2: FLOCK  ADVISORY  WRITE 4682 00:2a:258 0 EOF',
  '2: -> FLOCK  ADVISORY  WRITE 4700 00:2a:258 0 EOF',
  '3: FLOCK  ADVISORY  READ 4800 00:2a:300 0 EOF',
].join('\n');

describe('flockHolder', () => {
  it('finds the exclusive flock on the device and inode', () => {
    expect(flockHolder(LOCKS, '00:2a:258')).toBe(4682);
  });
  it('ignores shared locks, other inodes and an empty table', () => {
    expect(flockHolder(LOCKS, '00:2a:300')).toBeNull();
    expect(flockHolder(LOCKS, '00:2b:258')).toBeNull();
    expect(flockHolder('', '00:2a:258')).toBeNull();
  });
  it('does not take a waiter for the holder', () => {
    expect(flockHolder('2: -> FLOCK  ADVISORY  WRITE 4700 00:2a:258 0 EOF', '00:2a:258')).toBeNull();
  });
});
