// Reads the log written by test/powercut/logfs.c and rebuilds the image at any flush: the pure half
// of the power-cut harness (no mounts, no servers), so it can be unit-tested on a hand-made log.
import { closeSync, openSync, readSync, writeSync, fstatSync } from 'node:fs';

export const LOG_MAGIC = 'LCPLOG1\n';
const HEADER = 24;
/** Btrfs's primary superblock: a write here is a committed transaction (or a log-tree sync) landing. */
export const BTRFS_SUPER_OFFSET = 64 * 1024;

export type LogRecord =
  | { kind: 'write'; off: number; len: number; at: number } // payload at file offset `at`
  | { kind: 'zero'; off: number; len: number }
  | { kind: 'flush' }
  | { kind: 'mark'; name: string };

const KINDS: Record<number, LogRecord['kind']> = { 87: 'write', 90: 'zero', 70: 'flush', 77: 'mark' };

/** Every record of the log, in order; write payloads stay in the file (read them with `applyRecords`). */
export function readLog(file: string): LogRecord[] {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(HEADER);
    if (readSync(fd, head, 0, 8, 0) !== 8 || head.subarray(0, 8).toString('latin1') !== LOG_MAGIC) {
      throw new Error(`${file} is not a logfs log`);
    }
    const out: LogRecord[] = [];
    let pos = 8;
    while (pos < size) {
      if (readSync(fd, head, 0, HEADER, pos) !== HEADER) throw new Error(`${file}: torn record header at ${pos}`);
      const kind = KINDS[head.readUInt32LE(0)];
      const len = head.readUInt32LE(4);
      const off = Number(head.readBigUInt64LE(8));
      const arg = Number(head.readBigUInt64LE(16));
      const at = pos + HEADER;
      if (at + len > size) throw new Error(`${file}: torn record at ${pos}`);
      if (kind === 'write') out.push({ kind, off, len, at });
      else if (kind === 'zero') out.push({ kind, off, len: arg });
      else if (kind === 'flush') out.push({ kind });
      else if (kind === 'mark') {
        const name = Buffer.alloc(len);
        readSync(fd, name, 0, len, at);
        out.push({ kind, name: name.toString('utf8') });
      } else throw new Error(`${file}: unknown record kind ${head.readUInt32LE(0)} at ${pos}`);
      pos = at + len;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** A durable state: the image as it stands after record `index` (a flush). */
export interface FlushPoint {
  /** Index into the records of the flush. */
  index: number;
  /** 1-based count of flushes up to and including this one. */
  flush: number;
  /** The last mark before it ("" when none). */
  after: string;
  /** Whether a write to the primary superblock came since the previous flush. */
  superblock: boolean;
}

export function flushPoints(records: LogRecord[]): FlushPoint[] {
  const out: FlushPoint[] = [];
  let mark = '';
  let sb = false;
  let n = 0;
  records.forEach((r, index) => {
    if (r.kind === 'mark') mark = r.name;
    else if (r.kind === 'write' && r.off <= BTRFS_SUPER_OFFSET && r.off + r.len > BTRFS_SUPER_OFFSET) sb = true;
    else if (r.kind === 'flush') {
      out.push({ index, flush: ++n, after: mark, superblock: sb });
      sb = false;
    }
  });
  return out;
}

/**
 * The distinct durable states between two marks: each flush that follows a superblock write (a new
 * committed tree is on disk), starting after mark `from` and ending at the first flush after `to`.
 */
export function statesBetween(records: LogRecord[], from: string, to: string): FlushPoint[] {
  const start = records.findIndex((r) => r.kind === 'mark' && r.name === from);
  const end = records.findIndex((r) => r.kind === 'mark' && r.name === to);
  if (start < 0 || end < 0 || end < start) throw new Error(`marks ${from}..${to} not found in order in the log`);
  const points = flushPoints(records).filter((p) => p.index > start && p.superblock);
  const inside = points.filter((p) => p.index < end);
  const closing = points.find((p) => p.index > end);
  return closing ? [...inside, closing] : inside;
}

/**
 * The distinct durable states of a whole recorded host filesystem (not Btrfs: no superblock to watch)
 * between two marks: each flush with a write or zeroing since the previous one (a flush with nothing new
 * repeats the state before it), from mark `from` on, and the first such flush after `to`.
 */
export function dirtyStatesBetween(records: LogRecord[], from: string, to: string): FlushPoint[] {
  const start = records.findIndex((r) => r.kind === 'mark' && r.name === from);
  const end = records.findIndex((r) => r.kind === 'mark' && r.name === to);
  if (start < 0 || end < start) throw new Error(`marks ${from}..${to} not found in order in the log`);
  const dirty = new Set<number>();
  let wrote = false;
  records.forEach((r, i) => {
    if (r.kind === 'write' || r.kind === 'zero') wrote = true;
    else if (r.kind === 'flush') {
      if (wrote) dirty.add(i);
      wrote = false;
    }
  });
  const points = flushPoints(records).filter((p) => p.index > start && dirty.has(p.index));
  const closing = points.find((p) => p.index > end);
  return [...points.filter((p) => p.index < end), ...(closing ? [closing] : [])];
}

/** Applies records [from, to) of `log` to the image open at `imageFd` (the caller keeps it for the next span). */
export function applyRecords(log: string, records: LogRecord[], imageFd: number, from: number, to: number): void {
  const fd = openSync(log, 'r');
  try {
    for (let i = from; i < to; i++) {
      const r = records[i]!;
      if (r.kind === 'write') {
        const buf = Buffer.alloc(r.len);
        readSync(fd, buf, 0, r.len, r.at);
        writeAll(imageFd, buf, r.off);
      } else if (r.kind === 'zero') {
        const chunk = Buffer.alloc(Math.min(r.len, 1 << 20));
        for (let done = 0; done < r.len; done += chunk.length) {
          writeAll(imageFd, chunk.subarray(0, Math.min(chunk.length, r.len - done)), r.off + done);
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, buf: Buffer, pos: number): void {
  for (let done = 0; done < buf.length; ) done += writeSync(fd, buf, done, buf.length - done, pos + done);
}

/** The tool's journal as it stood at record `index` (its `journal:` marks; see LYCHD_CRYPT_JOURNAL_MARKS): null for none. */
export function journalAt(records: LogRecord[], index: number): unknown {
  let last: string | null = null;
  for (let i = 0; i <= index && i < records.length; i++) {
    const r = records[i]!;
    if (r.kind === 'mark' && r.name.startsWith('journal:')) last = r.name.slice('journal:'.length);
  }
  return last && last !== '-' ? JSON.parse(Buffer.from(last, 'base64').toString('utf8')) : null;
}
