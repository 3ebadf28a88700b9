// WAL segment names and page headers: which files a backup needs (from its start LSN to its stop LSN) and
// whether a file really is the segment its name says (its first page's long header names this cluster,
// this segment size and the segment's own address, on a timeline of its history; the page before the stop
// LSN is written). A recycled segment (renamed ahead for reuse) keeps its old pages, so its address gives it
// away. Layouts: PostgreSQL's src/include/access/xlog_internal.h (XLogPageHeaderData, XLogLongPageHeaderData,
// XLogFileName). Pure: the callers read the files.

export const XLP_FIRST_IS_CONTRECORD = 0x0001;
export const XLP_LONG_HEADER = 0x0002;
/** XLOG_PAGE_MAGIC per major version (14, 15, 18 read from real segments; 16, 17 from their headers). */
export const PAGE_MAGIC: Readonly<Record<number, number>> = { 0xd10d: 14, 0xd110: 15, 0xd113: 16, 0xd116: 17, 0xd118: 18 };
const SHORT_HEADER = 24; // MAXALIGN(sizeof(XLogPageHeaderData))
const LONG_HEADER = 40; // MAXALIGN(sizeof(XLogLongPageHeaderData))

/** "16/B374D848" -> 0x16B374D848n */
export function parseLsn(text: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!m) throw new Error(`not an LSN: ${JSON.stringify(text)}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

const hex8 = (n: bigint): string => n.toString(16).toUpperCase().padStart(8, '0');

/** XLogFileName: timeline, then the segment number split at 4 GiB of WAL ("log id" and segment in it). */
export function walFileName(tli: number, segno: bigint, segSize: number): string {
  const perId = 0x100000000n / BigInt(segSize);
  return `${hex8(BigInt(tli))}${hex8(segno / perId)}${hex8(segno % perId)}`;
}

export function parseWalFileName(name: string, segSize: number): { tli: number; segno: bigint } | null {
  const m = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})$/.exec(name);
  if (!m) return null;
  const perId = 0x100000000n / BigInt(segSize);
  const low = BigInt(`0x${m[3]}`);
  if (low >= perId) return null;
  return { tli: Number.parseInt(m[1]!, 16), segno: BigInt(`0x${m[2]}`) * perId + low };
}

/** A segment file name or a timeline history file: the WAL files a copy carries (never .partial, never archive_status). */
export const isSegmentName = (name: string): boolean => /^[0-9A-F]{24}$/.test(name);
export const isHistoryName = (name: string): boolean => /^[0-9A-F]{8}\.history$/.test(name);

/** The segment holding the byte at `lsn` (XLByteToSeg): where a record that starts at `lsn` is. */
export const segOf = (lsn: bigint, segSize: number): bigint => lsn / BigInt(segSize);
/** The segment holding the byte just before `lsn` (XLByteToPrevSeg, what pg_walfile_name uses). */
export const prevSegOf = (lsn: bigint, segSize: number): bigint => (lsn - 1n) / BigInt(segSize);

/**
 * The file names a backup needs: from the segment of its start LSN (a record starts there) to the segment
 * holding the last byte before its stop LSN (the backup-end record ends there — when it ends exactly on a
 * boundary, the next segment is not needed, which is why pg_walfile_name() looks one byte back).
 */
export function backupSegments(startLsn: bigint, stopLsn: bigint, tli: number, segSize: number): string[] {
  const first = segOf(startLsn, segSize);
  const last = prevSegOf(stopLsn, segSize);
  if (last < first) throw new Error(`stop LSN ${formatLsn(stopLsn)} lies before start LSN ${formatLsn(startLsn)}`);
  const names: string[] = [];
  for (let s = first; s <= last; s++) names.push(walFileName(tli, s, segSize));
  return names;
}

export interface PageHeader {
  magic: number;
  info: number;
  tli: number;
  pageaddr: bigint;
  remLen: number;
  long: { sysid: bigint; segSize: number; blcksz: number } | null;
}

/** One page header; `long` when the page is a segment's first (XLP_LONG_HEADER). */
export function readPageHeader(buf: Buffer, offset = 0): PageHeader | null {
  if (buf.length < offset + SHORT_HEADER) return null;
  const info = buf.readUInt16LE(offset + 2);
  const h: PageHeader = {
    magic: buf.readUInt16LE(offset),
    info,
    tli: buf.readUInt32LE(offset + 4),
    pageaddr: buf.readBigUInt64LE(offset + 8),
    remLen: buf.readUInt32LE(offset + 16),
    long: null,
  };
  if (info & XLP_LONG_HEADER && buf.length >= offset + LONG_HEADER) {
    h.long = { sysid: buf.readBigUInt64LE(offset + 24), segSize: buf.readUInt32LE(offset + 32), blcksz: buf.readUInt32LE(offset + 36) };
  }
  return h;
}

export interface HistoryLine {
  tli: number;
  switchLsn: bigint;
  reason: string;
}

/** A timeline history file's lines: `parentTLI <tab> switchpoint <tab> reason`. */
export function parseHistory(text: string): HistoryLine[] {
  const out: HistoryLine[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const [tli, lsn, ...reason] = t.split(/\s+/);
    out.push({ tli: Number(tli), switchLsn: parseLsn(lsn ?? ''), reason: reason.join(' ') });
  }
  return out;
}

/**
 * The timelines a segment of timeline `tli` may carry pages of, with the LSN from which each is no longer
 * valid: the file's own timeline and its ancestors up to their switch points (a new timeline's first
 * segment starts as a copy of its parent's, so its first pages carry the parent's TLI).
 */
export function timelinesOf(tli: number, historyText: string | null): Map<number, bigint | null> {
  const m = new Map<number, bigint | null>([[tli, null]]);
  if (historyText) for (const h of parseHistory(historyText)) m.set(h.tli, h.switchLsn);
  return m;
}

export interface SegmentCheck {
  name: string;
  segSize: number;
  /** The cluster's system identifier (decimal text, as pg_control_system() gives it). */
  sysid: string;
  historyText?: string | null;
  /** An LSN whose preceding byte must be written in this segment (the stop LSN, for the last segment). */
  upTo?: bigint | null;
}

/**
 * Checks one segment file's content against its name. Returns a list of problems (empty: the file is the
 * segment its name says); `version` is the major version whose page magic it carries.
 */
export function checkSegment(buf: Buffer, c: SegmentCheck): { problems: string[]; version: number | null } {
  const { name, segSize } = c;
  const problems: string[] = [];
  const parsed = parseWalFileName(name, segSize);
  if (!parsed) return { problems: [`${name}: not a WAL segment name for ${segSize}-byte segments`], version: null };
  if (buf.length !== segSize) problems.push(`${name}: ${buf.length} bytes, not ${segSize}`);
  const start = parsed.segno * BigInt(segSize);
  const tlis = timelinesOf(parsed.tli, c.historyText ?? null);
  const first = readPageHeader(buf, 0);
  const version = first ? (PAGE_MAGIC[first.magic] ?? null) : null;
  if (!first?.long) {
    problems.push(`${name}: the first page has no long header (a zeroed or foreign file)`);
    return { problems, version };
  }
  if (first.pageaddr !== start) problems.push(`${name}: the first page belongs at ${formatLsn(first.pageaddr)}, not ${formatLsn(start)} (a recycled or renamed segment)`);
  if (first.long.sysid !== BigInt(c.sysid)) problems.push(`${name}: written by system ${first.long.sysid}, not ${c.sysid}`);
  if (first.long.segSize !== segSize) problems.push(`${name}: segment size ${first.long.segSize} in the header, not ${segSize}`);
  const checkTli = (h: PageHeader, where: string): void => {
    if (!tlis.has(h.tli)) problems.push(`${name}: ${where} is on timeline ${h.tli}, not ${parsed.tli} or an ancestor (is the .history file missing?)`);
    else {
      const until = tlis.get(h.tli);
      if (until != null && h.pageaddr >= until) problems.push(`${name}: ${where} is on timeline ${h.tli} past its switch point ${formatLsn(until)}`);
    }
  };
  checkTli(first, 'the first page');
  if (c.upTo != null) {
    const blcksz = BigInt(first.long.blcksz);
    const last = c.upTo - 1n;
    if (last < start || last >= start + BigInt(segSize)) problems.push(`${name}: ${formatLsn(c.upTo)} does not end in this segment`);
    else {
      const pageStart = last - (last % blcksz);
      const h = readPageHeader(buf, Number(pageStart - start));
      if (!h || h.pageaddr !== pageStart) problems.push(`${name}: the page of ${formatLsn(c.upTo)} is not written (found ${h ? formatLsn(h.pageaddr) : 'nothing'}): the copy was taken too early`);
      else checkTli(h, `the page of ${formatLsn(c.upTo)}`);
    }
  }
  return { problems, version };
}

/** How many whole pages from the start carry their own address: the written part of a segment. */
export function writtenPages(buf: Buffer): number {
  const first = readPageHeader(buf, 0);
  if (!first?.long) return 0;
  const blcksz = first.long.blcksz;
  let n = 0;
  for (let off = 0; off + blcksz <= buf.length; off += blcksz, n++) {
    const h = readPageHeader(buf, off);
    if (!h || h.pageaddr !== first.pageaddr + BigInt(off) || h.magic !== first.magic) break;
  }
  return n;
}
