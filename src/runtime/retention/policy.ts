// The retention policy as a pure function: for every snapshot, keep or delete, and the rule(s) that keep it.
//
// Semantics (snapper's timeline cleanup, btrbk's `preserve`): a snapshot is kept when ANY rule keeps it.
// - `last: N`        the newest N snapshots;
// - `within: ms`     every snapshot younger than that (what `prune --max-age` always meant);
// - `hourly: N` … `yearly: N`: the FIRST (oldest) snapshot of each of the newest N periods that HAVE a
//   snapshot. Periods without one are not counted, so a machine switched off for a week keeps its history
//   instead of seeing it age out (the count is of kept snapshots, not of calendar time). UTC periods, ISO weeks.
// - never deleted, whatever the counts: pinned snapshots, the newest snapshot, the newest pre-rollback
//   snapshot (the undo point of the last rollback). These are `protected`: the free-space floor skips them too.
import { newestFirst } from '../snapshots/order.js';
import { LEVELS, periodKey, type Level } from './periods.js';
import type { RetentionConfig } from '../../model/settings.js';
import { formatAge, parseAge } from '../../model/units.js';

export interface RetentionPolicy {
  last?: number;
  /** Milliseconds. */
  within?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
}

export interface RetentionItem {
  name: string;
  /** ISO 8601 UTC. */
  createdAt: string;
  pinned?: boolean;
  preRollback?: boolean;
  /**
   * The newest copy some replication target holds (runtime/replicate/record.ts): the base of its next
   * incremental. Kept by the policy; the free-space floor may still take it (the next send is then full).
   */
  replicaBase?: boolean;
}

export type KeepRule = 'pinned' | 'newest' | 'newest-pre-rollback' | 'replica-base' | 'last' | 'within' | Level;

export interface RetentionDecision {
  name: string;
  createdAt: string;
  action: 'keep' | 'delete';
  /** Every rule that keeps it, strongest first; empty for delete. */
  rules: KeepRule[];
  /** For each level rule that keeps it: the period it stands for (`2026-11-23`, `2026-W48`). */
  periods: Partial<Record<Level, string>>;
  /** Pinned, newest, or newest pre-rollback: no rule and no free-space floor ever deletes it. */
  protected: boolean;
  /** One line for people: the rules with their periods, or why it goes. */
  reason: string;
}

export function isEmptyPolicy(p: RetentionPolicy): boolean {
  return p.last === undefined && p.within === undefined && LEVELS.every((l) => p[l] === undefined);
}

/** Decisions newest first. */
export function applyRetention(items: readonly RetentionItem[], policy: RetentionPolicy, now: Date): RetentionDecision[] {
  const sorted = newestFirst(items);
  const rules = new Map<string, Set<KeepRule>>(sorted.map((s) => [s.name, new Set<KeepRule>()]));
  const periods = new Map<string, Partial<Record<Level, string>>>(sorted.map((s) => [s.name, {}]));
  const keep = (name: string, rule: KeepRule): void => void rules.get(name)!.add(rule);

  sorted.forEach((s, i) => {
    if (s.pinned) keep(s.name, 'pinned');
    if (i === 0) keep(s.name, 'newest');
    if (policy.last !== undefined && i < policy.last) keep(s.name, 'last');
    if (policy.within !== undefined && now.getTime() - Date.parse(s.createdAt) <= policy.within) keep(s.name, 'within');
  });
  const newestPre = sorted.find((s) => s.preRollback);
  if (newestPre) keep(newestPre.name, 'newest-pre-rollback');
  for (const s of sorted) if (s.replicaBase) keep(s.name, 'replica-base');

  for (const level of LEVELS) {
    const count = policy[level];
    if (!count) continue;
    // Oldest first, so the first snapshot seen in a period is the one that period keeps.
    const firstOf = new Map<string, string>();
    for (const s of [...sorted].reverse()) {
      const key = periodKey(level, new Date(s.createdAt));
      if (!firstOf.has(key)) firstOf.set(key, s.name);
    }
    const newestPeriods = [...firstOf.keys()].sort().reverse().slice(0, count);
    for (const key of newestPeriods) {
      const name = firstOf.get(key)!;
      keep(name, level);
      periods.get(name)![level] = key;
    }
  }

  return sorted.map((s) => {
    const kept = ORDER.filter((r) => rules.get(s.name)!.has(r));
    const p = periods.get(s.name)!;
    return {
      name: s.name,
      createdAt: s.createdAt,
      action: kept.length ? 'keep' : 'delete',
      rules: kept,
      periods: p,
      protected: kept.some((r) => PROTECTING.has(r)),
      reason: kept.length ? kept.map((r) => describeRule(r, policy, p)).join(', ') : 'no rule keeps it',
    };
  });
}

const ORDER: readonly KeepRule[] = ['pinned', 'newest', 'newest-pre-rollback', 'replica-base', 'last', 'within', ...LEVELS];
const PROTECTING = new Set<KeepRule>(['pinned', 'newest', 'newest-pre-rollback']);

function describeRule(rule: KeepRule, policy: RetentionPolicy, periods: Partial<Record<Level, string>>): string {
  switch (rule) {
    case 'pinned':
      return 'pinned';
    case 'newest':
      return 'newest snapshot';
    case 'newest-pre-rollback':
      return 'newest pre-rollback snapshot';
    case 'replica-base':
      return 'newest copy on a replication target (the base of its next incremental)';
    case 'last':
      return `last ${policy.last}`;
    case 'within':
      return `within ${formatAge(policy.within!)}`;
    default:
      return `${rule} ${periods[rule]}`;
  }
}

/** The stored `retention:` (model/settings.ts) as the policy this module applies. */
export function toPolicy(r: RetentionConfig): RetentionPolicy {
  const { keepLast, within, ...levels } = r;
  return { ...levels, ...(keepLast !== undefined ? { last: keepLast } : {}), ...(within !== undefined ? { within: parseAge(within)! } : {}) };
}
