// Snapshot order shared by list and prune; the retention policy itself is src/runtime/retention/policy.ts,
// ages are parsed by model/units.ts.

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
