// Snapshot names: UTC time first so they sort by time (`20261123T205512Z-pre-upgrade`), then the label
// slugged to something safe as a directory name; a `-2`, `-3`… suffix keeps two names in one second apart.
import { hasControlChars } from '../../base/output/text.js';
import { UsageError } from '../../base/errors.js';

/** Longest slug kept in a name; the full label stays in the metadata. */
export const MAX_SLUG = 48;
/** Longest label accepted (it also becomes the PostgreSQL backup label). */
export const MAX_LABEL = 200;

/** `2026-11-23T20:55:12.345Z` -> `20261123T205512Z`. */
export function formatNameTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/** Lowercase ASCII letters and digits joined by single dashes; accents are folded (é -> e). */
export function slugLabel(label: string): string {
  const slug = label
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (slug.length <= MAX_SLUG) return slug;
  const cut = slug.slice(0, MAX_SLUG);
  // Cut at a word boundary when one is reasonably close, so names do not end mid-word.
  const dash = cut.lastIndexOf('-');
  return (dash >= MAX_SLUG / 2 ? cut.slice(0, dash) : cut).replace(/-+$/, '');
}

/** Checks a --label: printable, one line, not too long. Returns it trimmed, or null for none. */
export function validateLabel(label: string | undefined): string | null {
  if (label === undefined) return null;
  const trimmed = label.trim();
  if (trimmed === '') return null;
  if (trimmed.length > MAX_LABEL) throw new UsageError(`--label is too long (${trimmed.length} characters, at most ${MAX_LABEL})`);
  // C0, DEL, C1 and the bidi overrides (U+202E would make a label read backwards in every listing).
  if (hasControlChars(trimmed)) throw new UsageError('--label must be one line of printable text (no control characters or bidi overrides)');
  return trimmed;
}

/** The base name for a snapshot taken at `d` with `label` (no uniqueness suffix yet). */
export function baseName(d: Date, label: string | null): string {
  const slug = label ? slugLabel(label) : '';
  return slug ? `${formatNameTime(d)}-${slug}` : formatNameTime(d);
}

/** `base`, else `base-2`, `base-3`, … — the first one `taken` does not contain. */
export function uniqueName(base: string, taken: (name: string) => boolean): string {
  if (!taken(base)) return base;
  for (let i = 2; ; i++) {
    const candidate = `${base}-${i}`;
    if (!taken(candidate)) return candidate;
  }
}

/**
 * The grammar of a snapshot name, exactly what baseName/uniqueName make: the UTC time, then dash-joined
 * words of lowercase ASCII letters and digits (the slug, a uniqueness suffix). The character sets are spelt
 * out rather than written as ranges, so the same pattern means the same in every regex engine and locale:
 * the completions (src/cli/docs/completion.ts) filter with it in bash, zsh and fish.
 */
const DIGIT = '[0123456789]';
const WORD = '[0123456789abcdefghijklmnopqrstuvwxyz]';
export const NAME_PATTERN = `^${DIGIT}{8}T${DIGIT}{6}Z(-${WORD}+)*$`;
/** Longest name: far above what the slug and a suffix make, well below a file name's 255 bytes with `.json`. */
export const MAX_NAME = 128;
const NAME_RE = new RegExp(NAME_PATTERN);

/**
 * Whether `name` is a snapshot name. The single check where names enter (the catalog, lookups, the journal,
 * what a user types): anything else in snapshots/ is foreign, never listed, completed or acted on, so a name
 * cannot carry a path, a shell word or a control character.
 */
export function isSnapshotName(name: string): boolean {
  return name.length <= MAX_NAME && NAME_RE.test(name);
}
