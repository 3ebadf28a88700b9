// The WAL segment reader on synthetic segments: names from LSNs, the backup range, and the header checks that
// catch a recycled, truncated, zeroed, foreign or other-size file, a copy taken too early, a timeline's parent pages.
import { strict as assert } from 'node:assert';
import { test } from 'vitest';
import { backupSegments, checkSegment, formatLsn, parseHistory, parseLsn, parseWalFileName, prevSegOf, readPageHeader, segOf, timelinesOf, walFileName, writtenPages } from '../../src/base/wal/segments.js';

const MB = 2 ** 20;
const BLCKSZ = 8192;
const SYSID = '7441000000000000001';

/** A segment as PostgreSQL writes it: a long header on the first page, short ones after; `pages` written. */
function segment({ segno, segSize = MB, tli = 1, sysid = SYSID, pages = segSize / BLCKSZ, tliOfPage = (_i: number) => tli, magic = 0xd110 }: { segno: number; segSize?: number; tli?: number; sysid?: string; pages?: number; tliOfPage?: (i: number) => number; magic?: number }) {
  const buf = Buffer.alloc(segSize);
  const start = BigInt(segno) * BigInt(segSize);
  for (let i = 0; i < pages; i++) {
    const off = i * BLCKSZ;
    buf.writeUInt16LE(magic, off);
    buf.writeUInt16LE(i === 0 ? 0x0002 : 0, off + 2);
    buf.writeUInt32LE(tliOfPage(i), off + 4);
    buf.writeBigUInt64LE(start + BigInt(off), off + 8);
    if (i === 0) {
      buf.writeBigUInt64LE(BigInt(sysid), off + 24);
      buf.writeUInt32LE(segSize, off + 32);
      buf.writeUInt32LE(BLCKSZ, off + 36);
    }
  }
  return buf;
}

test('LSNs parse and print as PostgreSQL writes them', () => {
  assert.equal(parseLsn('16/B374D848'), 0x16b374d848n);
  assert.equal(formatLsn(0x16b374d848n), '16/B374D848');
  assert.equal(formatLsn(parseLsn('0/0')), '0/0');
  assert.throws(() => parseLsn('0x16'), /not an LSN/);
});

test('segment file names: the timeline, then the segment number split at 4 GiB of WAL', () => {
  assert.equal(walFileName(1, 0x1an, 16 * MB), '00000001000000000000001A');
  assert.equal(walFileName(1, 256n, 16 * MB), '000000010000000100000000');
  assert.equal(walFileName(2, 65n, 64 * MB), '000000020000000100000001');
  assert.deepEqual(parseWalFileName('000000020000000100000001', 64 * MB), { tli: 2, segno: 65n });
  assert.equal(parseWalFileName('000000010000000000000040', 64 * MB), null, 'a low part past 4 GiB / 64 MiB is no segment of that size');
  assert.equal(parseWalFileName('00000001.history', 16 * MB), null);
});

test('a backup needs the segments from its start LSN to the one holding the byte before its stop LSN', () => {
  const seg = 16 * MB;
  assert.deepEqual(backupSegments(parseLsn('0/3000028'), parseLsn('0/3000100'), 1, seg), ['000000010000000000000003']);
  // A stop LSN exactly on a boundary ends in the segment before it (what pg_walfile_name() says too).
  assert.deepEqual(backupSegments(parseLsn('0/3000028'), parseLsn('0/4000000'), 1, seg), ['000000010000000000000003']);
  assert.deepEqual(backupSegments(parseLsn('0/3000028'), parseLsn('0/5000001'), 1, seg), ['000000010000000000000003', '000000010000000000000004', '000000010000000000000005']);
  assert.equal(segOf(parseLsn('0/4000000'), seg), 4n);
  assert.equal(prevSegOf(parseLsn('0/4000000'), seg), 3n);
  assert.throws(() => backupSegments(parseLsn('0/5000000'), parseLsn('0/3000000'), 1, seg), /before start/);
});

test('a whole segment passes; its headers are read back', () => {
  const buf = segment({ segno: 3 });
  const h = readPageHeader(buf, 0);
  assert.equal(h!.long!.segSize, MB);
  assert.equal(h!.pageaddr, 3n * BigInt(MB));
  assert.deepEqual(checkSegment(buf, { name: walFileName(1, 3n, MB), segSize: MB, sysid: SYSID, upTo: 4n * BigInt(MB) }).problems, []);
  assert.equal(checkSegment(buf, { name: walFileName(1, 3n, MB), segSize: MB, sysid: SYSID }).version, 15);
  assert.equal(writtenPages(buf), MB / BLCKSZ);
});

test('a recycled (renamed ahead), truncated, zeroed, foreign or other-size file is flagged', () => {
  const buf = segment({ segno: 3 });
  const opts = { segSize: MB, sysid: SYSID };
  assert.match(checkSegment(buf, { ...opts, name: walFileName(1, 9n, MB) }).problems.join(), /belongs at 0\/300000, not 0\/900000/);
  assert.match(checkSegment(buf.subarray(0, MB / 2), { ...opts, name: walFileName(1, 3n, MB) }).problems.join(), /524288 bytes/);
  assert.match(checkSegment(Buffer.alloc(MB), { ...opts, name: walFileName(1, 3n, MB) }).problems.join(), /no long header/);
  assert.match(checkSegment(buf, { ...opts, sysid: '1', name: walFileName(1, 3n, MB) }).problems.join(), /written by system/);
  assert.match(checkSegment(segment({ segno: 3, segSize: 2 * MB }).subarray(0, MB), { ...opts, name: walFileName(1, 3n, MB) }).problems.join(), /segment size 2097152/);
});

test('the page before the stop LSN must be written: a copy taken before the server wrote it is flagged', () => {
  const buf = segment({ segno: 3, pages: 10 });
  assert.equal(writtenPages(buf), 10);
  const name = walFileName(1, 3n, MB);
  const base = 3n * BigInt(MB);
  assert.deepEqual(checkSegment(buf, { name, segSize: MB, sysid: SYSID, upTo: base + 10n * BigInt(BLCKSZ) }).problems, []);
  assert.match(checkSegment(buf, { name, segSize: MB, sysid: SYSID, upTo: base + 10n * BigInt(BLCKSZ) + 1n }).problems.join(), /not written/);
  assert.match(checkSegment(buf, { name, segSize: MB, sysid: SYSID, upTo: base + 2n * BigInt(MB) }).problems.join(), /does not end in this segment/);
});

test("timelines: a new timeline's first segment starts with its parent's pages up to the switch point", () => {
  const history = '1\t0/380000\tno recovery target specified\n';
  assert.deepEqual(parseHistory(`# comment\n${history}`), [{ tli: 1, switchLsn: parseLsn('0/380000'), reason: 'no recovery target specified' }]);
  assert.deepEqual([...timelinesOf(2, history).keys()], [2, 1]);
  // Segment 3 of timeline 2: pages before 0/380000 carry timeline 1, the rest timeline 2.
  const switchPage = (0x380000 - 3 * MB) / BLCKSZ;
  const buf = segment({ segno: 3, tli: 2, tliOfPage: (i: number) => (i < switchPage ? 1 : 2) });
  const name = walFileName(2, 3n, MB);
  assert.deepEqual(checkSegment(buf, { name, segSize: MB, sysid: SYSID, historyText: history, upTo: 4n * BigInt(MB) }).problems, []);
  assert.match(checkSegment(buf, { name, segSize: MB, sysid: SYSID }).problems.join(), /timeline 1, not 2 or an ancestor \(is the \.history file missing\?\)/);
  // A parent's page after its switch point is not part of this history.
  const late = segment({ segno: 3, tli: 2, tliOfPage: () => 1 });
  assert.match(checkSegment(late, { name, segSize: MB, sysid: SYSID, historyText: history, upTo: 4n * BigInt(MB) }).problems.join(), /past its switch point/);
});
