// The retention policy of `prune`, as a pure function: which snapshots to delete, and why each is kept.
// Rules: the newest `keep` are always kept; of the rest, those older than `maxAgeMs` go (or all of the rest
// when no age is given). The newest snapshot is never pruned, whatever the policy says.
// Pre-rollback snapshots count like any other snapshot (see docs/snapshots.md).

export interface PruneCandidate {
  name: string;
  /** ISO 8601 UTC. */
  createdAt: string;
}

export interface PrunePolicy {
  /** Keep at least the newest N (undefined: no count rule). */
  keep?: number;
  /** Delete snapshots older than this, beyond `keep` (undefined: no age rule). */
  maxAgeMs?: number;
}

export interface PruneDecision {
  name: string;
  createdAt: string;
  action: 'keep' | 'delete';
  reason: string;
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

export function planPrune(items: readonly PruneCandidate[], policy: PrunePolicy, now: Date): PruneDecision[] {
  if (policy.keep === undefined && policy.maxAgeMs === undefined) throw new Error('planPrune needs keep or maxAgeMs');
  const keep = Math.max(1, policy.keep ?? 1);
  return newestFirst(items).map((s, i) => {
    const base = { name: s.name, createdAt: s.createdAt };
    if (i === 0) return { ...base, action: 'keep', reason: 'the newest snapshot is never pruned' };
    if (policy.keep !== undefined && i < keep) return { ...base, action: 'keep', reason: `within the newest ${policy.keep}` };
    if (policy.maxAgeMs !== undefined) {
      const age = now.getTime() - Date.parse(s.createdAt);
      if (age <= policy.maxAgeMs) return { ...base, action: 'keep', reason: 'younger than --max-age' };
      return { ...base, action: 'delete', reason: policy.keep !== undefined ? `beyond the newest ${policy.keep} and older than --max-age` : 'older than --max-age' };
    }
    return { ...base, action: 'delete', reason: `beyond the newest ${policy.keep}` };
  });
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30d`, `12h`, `90m`, `2w`, `45s` -> milliseconds; undefined for anything else. */
export function parseAge(text: string): number | undefined {
  const m = /^\s*(\d+)\s*([smhdw])\s*$/i.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2]!.toLowerCase()]!;
}
