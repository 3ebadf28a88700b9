// What a converging init changes in a crypt's registered definition (pure): every leaf of the Config whose
// value differs, as `key: old → new`. The interactive preview and --dry-run show it whenever it is not
// empty, and say "nothing to change" when it is — a re-run can never rewrite a setting unseen.
import type { Config } from '../../model/config.js';

export interface ConfigChange {
  /** The key path, as in the answers file where there is one (`postgres.connection.user`). */
  key: string;
  from: unknown;
  to: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function walk(key: string, a: unknown, b: unknown, out: ConfigChange[]): void {
  if (isObject(a) && isObject(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])]) walk(key ? `${key}.${k}` : k, a[k], b[k], out);
    return;
  }
  // Absent and null mean the same in a stored config (a setting written before it existed reads as null).
  if (JSON.stringify(a ?? null) !== JSON.stringify(b ?? null)) out.push({ key, from: a ?? null, to: b ?? null });
}

/** The changes from the registered definition to the planned one; [] when they agree. */
export function configChanges(registered: Config, planned: Config): ConfigChange[] {
  const out: ConfigChange[] = [];
  walk('', registered, planned, out);
  return out;
}

const shown = (v: unknown): string => (v === null ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v));

/** One line each: `postgres.connection.user: alice → postgres`. */
export function describeChanges(changes: readonly ConfigChange[]): string[] {
  return changes.map((c) => `${c.key}: ${shown(c.from)} → ${shown(c.to)}`);
}
