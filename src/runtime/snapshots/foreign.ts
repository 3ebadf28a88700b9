// What in snapshots/ is no snapshot of ours: an entry whose name is outside the grammar (src/runtime/snapshots/names.ts),
// one of the wrong type (a link, a device, a directory called `<name>.json`), or a snapshot whose metadata
// names another. The crypt's owner can put anything there; such entries are ignored by every command (never
// listed, completed, resolved or deleted) and only reported, escaped, by doctor.
import type { Dirent } from 'node:fs';
import { escapeBytes, escapeValue } from '../../base/output/text.js';
import { isSnapshotName } from './names.js';

export type ForeignWhy =
  /** The name is not one lychd-crypt makes (or is not even UTF-8). */
  | { why: 'not-a-name' }
  /** A snapshot's name, but not a directory (its subvolume) or a regular file (its `.json`). */
  | { why: 'wrong-type'; type: string }
  /** Subvolume and metadata, but the metadata names another snapshot. */
  | { why: 'names-another'; claims: string };

export type ForeignEntry = ForeignWhy & {
  /** The name escaped for a person (invalid UTF-8 as \xNN): never the raw name. */
  shown: string;
};

export function foreignEntry(name: string | Buffer, why: ForeignWhy): ForeignEntry {
  return { ...why, shown: typeof name === 'string' ? escapeValue(name) : escapeBytes(name) };
}

/** One line about an entry, for doctor. */
export function describeForeign(e: ForeignEntry): string {
  if (e.why === 'wrong-type') return `${e.shown} (a ${e.type})`;
  if (e.why === 'names-another') return `${e.shown} (its metadata names "${escapeValue(e.claims)}")`;
  return e.shown;
}

/** writeFileAtomic's temporary file for a metadata file (`.<name>.json.<hex>.tmp`): ours, mid-write or left by a crash. */
const TEMP = /^\.(.+)\.json\.[0-9a-f]{8}\.tmp$/;
/** A metadata file repair set aside because no command could use it (`<name>.json.invalid-<time>`): ours, kept for people. */
const SET_ASIDE = /^(.+)\.json\.invalid-[0-9]{8}T[0-9]{6}Z$/;

const typeOf = (e: Dirent<Buffer>): string =>
  e.isSymbolicLink() ? 'symbolic link' : e.isDirectory() ? 'directory' : e.isFile() ? 'file' : e.isFIFO() ? 'FIFO' : e.isSocket() ? 'socket' : 'device';

/** Splits a byte-named listing of snapshots/ into snapshot directories, metadata files, and the foreign rest. */
export function sortEntries(entries: readonly Dirent<Buffer>[]): { dirs: Set<string>; metas: Set<string>; foreign: ForeignEntry[] } {
  const dirs = new Set<string>();
  const metas = new Set<string>();
  const foreign: ForeignEntry[] = [];
  for (const e of entries) {
    // The grammar is ASCII: a name with any other byte is foreign before it is ever decoded.
    const ascii = e.name.every((b) => b < 0x80) ? e.name.toString('latin1') : null;
    const base = ascii?.endsWith('.json') ? ascii.slice(0, -5) : ascii;
    const ours = ascii !== null ? (TEMP.exec(ascii) ?? SET_ASIDE.exec(ascii)) : null;
    if (ours && isSnapshotName(ours[1]!) && e.isFile()) continue;
    if (ascii === null || base === null || !isSnapshotName(base)) foreign.push(foreignEntry(e.name, { why: 'not-a-name' }));
    else if (base !== ascii && e.isFile()) metas.add(base);
    else if (base === ascii && e.isDirectory()) dirs.add(base);
    else foreign.push(foreignEntry(e.name, { why: 'wrong-type', type: typeOf(e) }));
  }
  return { dirs, metas, foreign };
}
