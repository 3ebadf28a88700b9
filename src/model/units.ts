// Sizes as people write them for truncate(1): 20G, 512M, 1T, 20GiB; binary multiples.
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
