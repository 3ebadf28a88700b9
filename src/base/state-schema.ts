// The pieces the schemas of the tool's own state files share (the journal: src/base/crypt/journal-schema.ts,
// snapshot metadata: src/runtime/snapshots/meta-schema.ts), and zod's findings said in a line a person reads.
// zod's functional "mini" build, imported by name so that esbuild keeps only what these schemas use (about
// 20 kB of main.js; a namespace import would keep all of zod); the modules that need it are imported when a
// state file is actually read, so a command's start does not pay for it.
import { refine, string, type core } from 'zod/mini';

/** One component of a path (a snapshot or staging name): recovery joins it to the crypt's root. */
export const plainName = string().check(
  refine((s) => s.length > 0 && s !== '.' && s !== '..' && !/[/\0]/.test(s), { error: 'expected a plain name (no /, not . or ..)' }),
);

/** A path relative to the crypt's root that stays below it. */
export const innerPath = string().check(
  refine((s) => s.length > 0 && !s.startsWith('/') && !s.split('/').includes('..') && !s.includes('\0'), { error: 'expected a path inside the crypt (relative, without ..)' }),
);

/** An ISO 8601 time (what toISOString writes). */
export const isoTime = string().check(refine((s) => !Number.isNaN(Date.parse(s)), { error: 'expected a time such as 2026-11-23T20:55:12.000Z' }));

const valueAt = (data: unknown, path: PropertyKey[]): unknown =>
  path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), data);

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** `target: expected string, got nothing` — the first of zod's findings (with how many more). */
export function firstProblem(error: core.$ZodError, data: unknown): string {
  const issue = error.issues[0]!;
  const where = issue.path.length ? `${issue.path.map(String).join('.')}: ` : '';
  let what: string;
  const got = describe(valueAt(data, issue.path));
  if (issue.code === 'invalid_type') what = `expected ${issue.expected}, got ${got}`;
  else if (issue.code === 'invalid_union' && 'discriminator' in issue && issue.discriminator) {
    what = `expected one of ${((issue as { options?: unknown[] }).options ?? []).map(String).join(', ')}, got ${got}`;
  } else if (issue.code === 'invalid_value') what = `expected ${issue.values.map((x) => JSON.stringify(x)).join(' or ')}, got ${got}`;
  else if (issue.code === 'unrecognized_keys') what = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  else what = issue.message === 'Invalid input' ? `not valid (${issue.code}), got ${got}` : `${issue.message}, got ${got}`;
  const more = error.issues.length - 1;
  return `${where}${what}${more ? `, and ${more} more problem${more > 1 ? 's' : ''}` : ''}`;
}

