// Units of measure, parsed and formatted in one place: sizes (as people write them for truncate(1): 20G,
// 512M, 1T, 20GiB; binary multiples), ages and durations (30d, 12h, 90m). Pure: no I/O, nothing thrown.
const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50 };

export function parseSize(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text > 0 ? text : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:i?B)?\s*$/i.exec(text);
  if (!m) return undefined;
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2]!.toUpperCase()]!);
  return bytes > 0 ? bytes : undefined;
}

export function formatSize(bytes: number): string {
  for (const unit of ['P', 'T', 'G', 'M', 'K'] as const) {
    const n = bytes / UNITS[unit]!;
    if (n >= 1 && Number.isInteger(n)) return `${n}${unit}`;
  }
  for (const unit of ['P', 'T', 'G', 'M', 'K'] as const) {
    const n = bytes / UNITS[unit]!;
    if (n >= 1) return `${n.toFixed(1)}${unit}`;
  }
  return `${bytes}`;
}

/** For display: the largest unit with one decimal ("79.4G"), where formatSize would print "83308404K". */
export function approxSize(bytes: number): string {
  for (const unit of ['P', 'T', 'G', 'M', 'K'] as const) {
    const n = bytes / UNITS[unit]!;
    if (n >= 1) return `${Number.isInteger(n) ? n : n.toFixed(1)}${unit}`;
  }
  return `${bytes}`;
}

/** For people reading a report: 512 B, 300 MiB, 1.5 GiB, 150 GiB (readable, not exact; formatSize is exact for answers files). */
export function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  for (; v >= 1024 && i < units.length - 1; i++) v /= 1024;
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30d`, `12h`, `90m`, `2w`, `45s` -> milliseconds; undefined for anything else. */
export function parseAge(text: string): number | undefined {
  const m = /^\s*(\d+)\s*([smhdw])\s*$/i.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2]!.toLowerCase()]!;
}

/** Milliseconds -> the largest whole unit (`30d`, `12h`, `90m`), matching parseAge's input. */
export function formatAge(ms: number): string {
  for (const [unit, size] of [['w', 604_800_000], ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}

/** A time limit: `90` (seconds) or an age (`90s`, `5m`, `1h`) -> milliseconds above 0; undefined for anything else. */
export function parseDuration(text: string): number | undefined {
  const ms = /^\s*\d+\s*$/.test(text) ? Number(text) * 1000 : parseAge(text);
  return ms === undefined || ms <= 0 ? undefined : ms;
}

/**
 * A transfer rate: `20M`, `500K/s`, `1.5G` (bytes per second, binary multiples as in sizes) -> bytes per
 * second; undefined for anything else.
 */
export function parseRate(text: string | number): number | undefined {
  if (typeof text === 'number') return parseSize(text);
  const m = /^\s*([^/]+?)\s*(?:\/\s*s)?\s*$/i.exec(text);
  return m ? parseSize(m[1]!) : undefined;
}

/** Bytes per second as parseRate reads it (`20M/s`). */
export function formatRate(bytesPerS: number): string {
  return `${formatSize(bytesPerS)}/s`;
}
