// The retention policy from `prune`'s command line. `--keep N` and `--max-age AGE` are the original
// flags; they are the same rules as `--keep-last N` and `--within AGE` (the newest N, and everything
// younger than AGE), so every earlier command line keeps its meaning.
import { UsageError } from '../../base/errors.js';
import { LEVELS } from './periods.js';
import type { RetentionPolicy } from './policy.js';
import { parseAge } from '../../model/units.js';

function count(flag: string, v: unknown): number {
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new UsageError(`${flag} expects a whole number, got "${String(v)}"`);
  return n;
}

function age(flag: string, v: unknown): number {
  const ms = parseAge(String(v));
  if (ms === undefined) throw new UsageError(`${flag} expects an age like 30d, 12h, 2w, 90m or 45s, got "${String(v)}"`);
  return ms;
}

/** The policy the flags describe, or null when none was given (then the configured policy applies). */
export function policyFromOptions(opts: Record<string, unknown>): RetentionPolicy | null {
  const p: RetentionPolicy = {};
  if (opts.keep !== undefined && opts.keepLast !== undefined) throw new UsageError('--keep and --keep-last are the same rule: give one');
  if (opts.maxAge !== undefined && opts.within !== undefined) throw new UsageError('--max-age and --within are the same rule: give one');
  if (opts.keep !== undefined) p.last = count('--keep', opts.keep);
  if (opts.keepLast !== undefined) p.last = count('--keep-last', opts.keepLast);
  if (opts.maxAge !== undefined) p.within = age('--max-age', opts.maxAge);
  if (opts.within !== undefined) p.within = age('--within', opts.within);
  for (const level of LEVELS) if (opts[level] !== undefined) p[level] = count(`--${level}`, opts[level]);
  return Object.keys(p).length ? p : null;
}
