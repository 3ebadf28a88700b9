// Renders and parses fstab(5) lines. Fields are separated by blanks, so blanks, backslashes and other
// control characters inside a field are written as octal escapes (\040 for a space), which libmount
// decodes (see mnt_unmangle in util-linux).
import { FSTAB_TAG, type MountSpec } from '../../model/mount-spec.js';

export interface FstabEntry {
  /** 1-based line number in the parsed text. */
  line: number;
  what: string;
  where: string;
  type: string;
  options: string[];
  freq: number;
  passno: number;
}

/** Escapes one fstab field: whitespace, backslash, '#' and control characters become \ooo. */
export function escapeFstabField(field: string): string {
  if (field === '') throw new Error('empty fstab field');
  return field.replace(/[\s\\#\x00-\x1f\x7f]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

export function unescapeFstabField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** One line (no newline) with our tag among the options; dump 0 and passno 0 (btrfs has no fsck pass). */
export function renderFstabLine(spec: MountSpec): string {
  const options = spec.options.includes(FSTAB_TAG) ? spec.options : [...spec.options, FSTAB_TAG];
  return [spec.what, spec.where, spec.type, options.join(',')].map(escapeFstabField).join(' ') + ' 0 0';
}

/** Parses fstab text; comments and blank lines are skipped, fields are unescaped. */
export function parseFstab(text: string): FstabEntry[] {
  const entries: FstabEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const f = line.split(/[ \t]+/);
    if (f.length < 2) return;
    entries.push({
      line: i + 1,
      what: unescapeFstabField(f[0]!),
      where: unescapeFstabField(f[1]!),
      type: unescapeFstabField(f[2] ?? 'auto'),
      options: unescapeFstabField(f[3] ?? 'defaults').split(','),
      freq: Number(f[4] ?? 0),
      passno: Number(f[5] ?? 0),
    });
  });
  return entries;
}

/** The lines of `text` that mount `where` (ours or anyone's): a re-run replaces ours, refuses others. */
export function fstabEntriesFor(text: string, where: string): FstabEntry[] {
  return parseFstab(text).filter((e) => e.where === where);
}

/**
 * The new fstab text: our line replaces any line for the same mount point that carries our tag,
 * otherwise it is appended. Other lines are kept byte for byte.
 */
export function upsertFstabLine(text: string, spec: MountSpec): string {
  const line = renderFstabLine(spec);
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const ours = new Set(parseFstab(text).filter((e) => e.where === spec.where && e.options.includes(FSTAB_TAG)).map((e) => e.line));
  const kept: string[] = [];
  let placed = false;
  lines.forEach((l, i) => {
    if (!ours.has(i + 1)) kept.push(l);
    else if (!placed) {
      kept.push(line);
      placed = true;
    }
  });
  if (!placed) kept.push(line);
  return `${kept.join('\n')}\n`;
}
