// What a user may type where a command wants a snapshot: its full name, a unique prefix of it, its label
// (when no other snapshot has it), the part of its name after the time (the slug `list` shows, e.g.
// `schema-v4`, which stays in the name after a relabel) when unique, or `latest` / `previous`. One resolver and one wording for every
// command (rollback, delete, verify, pin, unpin, label); pure, so every rule is unit-tested.
import { closest, orList } from '../../base/output/did-you-mean.js';
import { UsageError } from '../../base/errors.js';
import { newestFirst } from './order.js';

export interface NamedSnapshot {
  name: string;
  label: string | null;
  createdAt: string;
}

export type Resolution =
  | { ok: true; input: string; name: string; via: 'name' | 'latest' | 'previous' | 'label' | 'prefix' | 'suffix' }
  | { ok: false; input: string; problem: 'unknown' | 'ambiguous'; candidates: string[] };

/** The words that name a snapshot by its age: the newest, and the one before it. */
export const KEYWORDS = ['latest', 'previous'] as const;

/**
 * `snapshots`: the complete ones (any order). `exact`: names that only resolve when typed in full (an
 * incomplete snapshot or orphaned metadata, which delete may remove but nothing should guess at).
 */
export function resolveSnapshotName(input: string, snapshots: readonly NamedSnapshot[], exact: readonly string[] = []): Resolution {
  if (snapshots.some((s) => s.name === input) || exact.includes(input)) return { ok: true, input, name: input, via: 'name' };
  const byAge = newestFirst(snapshots);
  const keyword = KEYWORDS.indexOf(input as (typeof KEYWORDS)[number]);
  if (keyword >= 0) {
    const s = byAge[keyword];
    return s ? { ok: true, input, name: s.name, via: KEYWORDS[keyword]! } : { ok: false, input, problem: 'unknown', candidates: byAge.map((x) => x.name) };
  }
  const labelled = byAge.filter((s) => s.label !== null && s.label === input);
  if (labelled.length === 1) return { ok: true, input, name: labelled[0]!.name, via: 'label' };
  if (labelled.length > 1) return { ok: false, input, problem: 'ambiguous', candidates: labelled.map((s) => s.name) };
  const prefixed = input ? byAge.filter((s) => s.name.startsWith(input)) : [];
  if (prefixed.length === 1) return { ok: true, input, name: prefixed[0]!.name, via: 'prefix' };
  if (prefixed.length > 1) return { ok: false, input, problem: 'ambiguous', candidates: prefixed.map((s) => s.name) };
  // The name after its time: the slug `list` shows (`schema-v4`), which stays when the label changes.
  const slugged = input ? byAge.filter((s) => slugOf(s.name) === input) : [];
  if (slugged.length === 1) return { ok: true, input, name: slugged[0]!.name, via: 'suffix' };
  if (slugged.length > 1) return { ok: false, input, problem: 'ambiguous', candidates: slugged.map((s) => s.name) };
  return { ok: false, input, problem: 'unknown', candidates: nearest(input, byAge) };
}

/** What follows the time in a name (`20261123T205512Z-schema-v4` → `schema-v4`), or '' when nothing does. */
const slugOf = (name: string): string => name.replace(/^\d{8}T\d{6}Z-?/, '');

/** Up to 3 snapshots the user may have meant: close in spelling to the name, its label or its slug, or containing the input. */
function nearest(input: string, byAge: readonly NamedSnapshot[]): string[] {
  const words = new Map<string, string>();
  for (const s of byAge) {
    for (const w of [s.name, s.label, slugOf(s.name)]) if (w && !words.has(w)) words.set(w, s.name);
  }
  const lower = input.toLowerCase();
  const containing = lower.length >= 3 ? byAge.filter((s) => s.name.toLowerCase().includes(lower) || s.label?.toLowerCase().includes(lower)).map((s) => s.name) : [];
  const near = closest(input, [...words.keys()], 3).map((w) => words.get(w)!);
  return [...new Set([...containing, ...near])].slice(0, 3);
}

const SHOWN = 5;
const names = (c: string[]): string => `${c.slice(0, SHOWN).join(', ')}${c.length > SHOWN ? `, … (${c.length - SHOWN} more)` : ''}`;

/** One line per name that did not resolve; the same wording in every command. */
export function describeFailure(r: Extract<Resolution, { ok: false }>): string {
  if (r.problem === 'ambiguous') return `"${r.input}" matches ${r.candidates.length} snapshots: ${names(r.candidates)}; give more of the name`;
  if (KEYWORDS.includes(r.input as (typeof KEYWORDS)[number])) {
    return `no such snapshot: ${r.input} (there ${r.candidates.length === 1 ? 'is only one snapshot' : 'are no snapshots'})`;
  }
  return `no such snapshot: ${r.input}${r.candidates.length ? `; did you mean ${orList(r.candidates, (s) => s)}?` : ''}`;
}

export const NAMING_HINT = 'Name a snapshot by its full name, a unique prefix, its label, latest or previous, or the part of its name after the time (e.g. schema-v4); `lychd-crypt list` shows them.';

/** The names, in the order given; throws one UsageError (exit 2) listing every name that did not resolve. */
export function requireResolved(results: readonly Resolution[]): string[] {
  const failed = results.filter((r): r is Extract<Resolution, { ok: false }> => !r.ok);
  if (failed.length) throw new UsageError(failed.map(describeFailure).join('\n'), { hint: `Nothing was changed. ${NAMING_HINT}` });
  return [...new Set(results.map((r) => (r as Extract<Resolution, { ok: true }>).name))];
}
