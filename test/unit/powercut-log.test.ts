// The power-cut replayer on a hand-made log: records are read in order, the durable states are the
// flushes after a superblock write within the marked window, and a replay applies exactly the
// writes and zeroings before the chosen flush.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BTRFS_SUPER_OFFSET, LOG_MAGIC, applyRecords, flushPoints, readLog, statesBetween } from '../helpers/powercut-log.js';
import { pickStates } from '../helpers/powercut.js';

function rec(kind: string, off = 0, arg = 0, payload = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(kind.charCodeAt(0), 0);
  h.writeUInt32LE(payload.length, 4);
  h.writeBigUInt64LE(BigInt(off), 8);
  h.writeBigUInt64LE(BigInt(arg), 16);
  return Buffer.concat([h, payload]);
}

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function writeLog(parts: Buffer[]): string {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pclog-'));
  const file = path.join(dir, 'log');
  writeFileSync(file, Buffer.concat([Buffer.from(LOG_MAGIC, 'latin1'), ...parts]));
  return file;
}

const sb = (fill: string) => rec('W', BTRFS_SUPER_OFFSET, 0, Buffer.alloc(4096, fill));

describe('power-cut log', () => {
  const parts = [
    rec('W', 0, 0, Buffer.from('aaaa')),
    rec('F'),
    rec('M', 0, 0, Buffer.from('op-start')),
    rec('W', 4, 0, Buffer.from('bbbb')),
    rec('F'),
    sb('1'),
    rec('F'),
    rec('Z', 0, 2),
    rec('F'), // no superblock since the last flush: not a new durable state
    sb('2'),
    rec('M', 0, 0, Buffer.from('op-end')),
    rec('F'),
    sb('3'),
    rec('F'),
  ];

  it('reads every record in order and finds the durable states of the window', () => {
    const log = writeLog(parts);
    const records = readLog(log);
    expect(records.map((r) => r.kind)).toEqual(['write', 'flush', 'mark', 'write', 'flush', 'write', 'flush', 'zero', 'flush', 'write', 'mark', 'flush', 'write', 'flush']);
    expect(flushPoints(records).map((p) => [p.flush, p.superblock, p.after])).toEqual([
      [1, false, ''],
      [2, false, 'op-start'],
      [3, true, 'op-start'],
      [4, false, 'op-start'],
      [5, true, 'op-end'],
      [6, true, 'op-end'],
    ]);
    // The states inside the window, plus the first one after its end mark (the operation's last write landing).
    expect(statesBetween(records, 'op-start', 'op-end').map((p) => p.flush)).toEqual([3, 5]);
    expect(() => statesBetween(records, 'op-end', 'op-start')).toThrow(/not found in order/);
  });

  it('replays up to a chosen flush: earlier writes and zeroings applied, later ones not', () => {
    const log = writeLog(parts);
    const records = readLog(log);
    const image = path.join(dir!, 'img');
    writeFileSync(image, Buffer.alloc(BTRFS_SUPER_OFFSET + 4096, '.'));
    const fd = openSync(image, 'r+');
    const [first, second] = statesBetween(records, 'op-start', 'op-end');
    applyRecords(log, records, fd, 0, first!.index + 1);
    let img = readFileSync(image);
    expect(img.subarray(0, 9).toString('latin1')).toBe('aaaabbbb.');
    expect(img[BTRFS_SUPER_OFFSET]).toBe('1'.charCodeAt(0));
    applyRecords(log, records, fd, first!.index + 1, second!.index + 1);
    closeSync(fd);
    img = readFileSync(image);
    expect(img.subarray(0, 9).toString('latin1')).toBe('\0\0aabbbb.');
    expect(img[BTRFS_SUPER_OFFSET]).toBe('2'.charCodeAt(0));
  });

  it('refuses a file that is not a log, and a torn record', () => {
    const log = writeLog([rec('W', 0, 0, Buffer.from('abcd')).subarray(0, 26)]);
    expect(() => readLog(log)).toThrow(/torn/);
    writeFileSync(log, 'not a log at all');
    expect(() => readLog(log)).toThrow(/not a logfs log/);
  });

  it('samples states evenly, first and last included, unless asked for all', () => {
    const states = Array.from({ length: 10 }, (_, i) => ({ index: i, flush: i + 1, after: '', superblock: true }));
    const saved = process.env.LYCHD_POWERCUT;
    delete process.env.LYCHD_POWERCUT;
    try {
      expect(pickStates(states, 4).map((s) => s.flush)).toEqual([1, 4, 7, 10]);
      expect(pickStates(states.slice(0, 3), 4)).toHaveLength(3);
      process.env.LYCHD_POWERCUT = 'all';
      expect(pickStates(states, 4)).toHaveLength(10);
    } finally {
      if (saved === undefined) delete process.env.LYCHD_POWERCUT;
      else process.env.LYCHD_POWERCUT = saved;
    }
  });
});
