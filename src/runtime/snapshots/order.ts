// Snapshot order and age parsing shared by list and prune; the retention policy itself is
// src/runtime/retention/policy.ts.

export interface PruneCandidate {
  name: string;
  /** ISO 8601 UTC. */
  createdAt: string;
}

/** Newest first: by time, then by name (names carry a -2, -3 suffix within one second). */
export function newestFirst<T extends PruneCandidate>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || compareNames(b.name, a.name));
}

function compareNames(a: string, b: string): number {
  const suffix = (n: string): [string, number] => {
    const m = /^(.*)-(\d+)$/.exec(n);
    return m && Number(m[2]) >= 2 ? [m[1]!, Number(m[2])] : [n, 1];
  };
  const [ab, an] = suffix(a);
  const [bb, bn] = suffix(b);
  return ab === bb ? an - bn : ab < bb ? -1 : ab > bb ? 1 : 0;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30d`, `12h`, `90m`, `2w`, `45s` -> milliseconds; undefined for anything else. */
export function parseAge(text: string): number | undefined {
  const m = /^\s*(\d+)\s*([smhdw])\s*$/i.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2]!.toLowerCase()]!;
}
