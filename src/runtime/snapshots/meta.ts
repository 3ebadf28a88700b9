// Snapshot metadata: `snapshots/<name>.json` beside the read-only subvolume `snapshots/<name>`.
// It is written last and atomically; a subvolume without it is an incomplete snapshot.
import path from 'node:path';
import { readdir } from 'node:fs/promises';
import { writeJsonAtomic } from '../../base/sys/fs.js';
import { CryptError } from '../../base/errors.js';
import { readTextSafely, UnsafeFileError } from '../../base/sys/read-file.js';
import type { CryptPaths } from '../../base/crypt/paths.js';
import { foreignEntry, sortEntries, type ForeignEntry } from './foreign.js';
import type { SnapshotMeta } from '../../model/snapshot-meta.js';

/** The type is the model's (the schema checks it there); the metadata's readers find it here too. */
export type { SnapshotMeta, SnapshotMode } from '../../model/snapshot-meta.js';

export function snapshotPath(paths: CryptPaths, name: string): string {
  return path.join(paths.snapshots, name);
}

export function metaPath(paths: CryptPaths, name: string): string {
  return path.join(paths.snapshots, `${name}.json`);
}

/** Metadata is a few hundred bytes (the backup label included); anything this large is not ours. */
const MAX_META_BYTES = 256 * 1024;

/** A metadata file no command may use: not a regular file of ours, not JSON, or not valid metadata. */
export class UnusableMetaError extends CryptError {
  constructor(
    readonly file: string,
    /** Completes "<file> …". */
    readonly why: string,
    /** The name the file gives when it is another snapshot's: then the entry is foreign (src/runtime/snapshots/foreign.ts). */
    readonly claims?: string,
  ) {
    super(`the metadata ${file} ${why}`, { hint: 'Run `lychd-crypt doctor`: repair sets the file aside and rebuilds the metadata from the snapshot.' });
  }
}

export interface ReadMetaOptions {
  /**
   * Whose files count (default: this user's and root's). Root replicating a rootless crypt (root's own
   * power: btrfs send needs it) reads the owner's metadata too, through the same safe read and schema.
   */
  owners?: number[];
}

/**
 * The snapshot's metadata; undefined when there is none; an UnusableMetaError when it cannot be used
 * (read as src/base/sys/read-file.ts reads, then checked against src/runtime/snapshots/meta-schema.ts).
 */
export async function readMeta(paths: CryptPaths, name: string, opts: ReadMetaOptions = {}): Promise<SnapshotMeta | undefined> {
  const file = metaPath(paths, name);
  let text: string | undefined;
  try {
    // Written by this user (or by root, on its behalf, before the owner took over).
    text = await readTextSafely(file, { maxBytes: MAX_META_BYTES, owners: opts.owners ?? [...new Set([process.getuid?.() ?? 0, 0])] });
  } catch (e) {
    if (e instanceof UnsafeFileError) throw new UnusableMetaError(file, e.why);
    throw e;
  }
  if (text === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UnusableMetaError(file, `is not JSON (${(e as Error).message})`);
  }
  // Another snapshot's metadata (valid or not) makes the entry foreign, whatever else is wrong with it.
  const claims = (data as { name?: unknown } | null)?.name;
  if (typeof claims === 'string' && claims !== name) throw new UnusableMetaError(file, `names another snapshot, ${JSON.stringify(claims)}`, claims);
  // The schema (and zod with it) is loaded on the first metadata read, not at a command's start.
  const parsed = (await import('./meta-schema.js')).parseMeta(data);
  if ('problem' in parsed) throw new UnusableMetaError(file, `is not valid snapshot metadata (${parsed.problem})`);
  return parsed.meta;
}

export function writeMeta(paths: CryptPaths, meta: SnapshotMeta): Promise<void> {
  return writeJsonAtomic(metaPath(paths, meta.name), meta, { mode: 0o644 });
}

export interface SnapshotDirEntries {
  /** Subvolume directories with metadata, newest name first. */
  complete: SnapshotMeta[];
  /** Directories without metadata (interrupted snapshot). */
  incomplete: string[];
  /** Metadata without a directory. */
  orphanMeta: string[];
  /** Subvolume and metadata both there, but the metadata does not parse (listed nowhere else). */
  unreadableMeta?: string[];
  /** Entries that are no snapshot of ours (src/runtime/snapshots/foreign.ts): ignored by everything but doctor. */
  foreign: ForeignEntry[];
}

/**
 * Reads snapshots/ by names only (cheap); callers that need subvolume facts ask btrfs. Names are read as
 * bytes: only entries named by the grammar (isSnapshotName) count, everything else is foreign.
 */
export async function readSnapshotDir(paths: CryptPaths, opts: ReadMetaOptions = {}): Promise<SnapshotDirEntries> {
  const { dirs, metas, foreign } = sortEntries(await readdir(paths.snapshots, { withFileTypes: true, encoding: 'buffer' }));
  const complete: SnapshotMeta[] = [];
  const unreadableMeta: string[] = [];
  for (const name of [...dirs].filter((d) => metas.has(d)).sort().reverse()) {
    // One damaged file must not hide every other snapshot (or crash list and doctor).
    const meta = await readMeta(paths, name, opts).catch((e: unknown) => (e instanceof UnusableMetaError && e.claims !== undefined ? e.claims : undefined));
    if (typeof meta === 'string') foreign.push(foreignEntry(name, { why: 'names-another', claims: meta }));
    else if (meta) complete.push(meta);
    else unreadableMeta.push(name);
  }
  return {
    complete,
    unreadableMeta,
    incomplete: [...dirs].filter((d) => !metas.has(d)).sort(),
    orphanMeta: [...metas].filter((m) => !dirs.has(m)).sort(),
    foreign,
  };
}
