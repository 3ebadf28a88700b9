// Copying WAL files between directories someone else can write (the live generation is the postgres user's,
// PGDATA too): read fd-relative, never following a link, regular files only, each checked by its page
// header before it is written (a segment is data, never followed or executed); written exclusively into a
// fresh directory owned by the server's user, fsynced file by file and the directory last.
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, readlink, rename, rm } from 'node:fs/promises';
import { CryptError } from '../errors.js';
import { chownDir, closeDir, openDir, unlinkAt, type Dir } from '../sys/fd.js';
import { readFileSafely } from '../sys/read-file.js';
import { fsyncDir } from '../sys/fs.js';
import { checkSegment, isHistoryName, isSegmentName, parseLsn, parseWalFileName, readPageHeader, segOf, walFileName, writtenPages } from './segments.js';

export interface Owner {
  uid: number;
  gid: number;
}

/** Whose the WAL files root writes are: the server's user (a process of that user writes them as itself). */
export const walOwner = (pg: Owner): Owner | null => ((process.geteuid?.() ?? -1) === 0 ? { uid: pg.uid, gid: pg.gid } : null);

const WRITE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** The target of `<pgdata>/pg_wal` when it is a link, null when it is a real directory, undefined when missing. */
export async function readWalLink(pgdata: Dir): Promise<string | null | undefined> {
  try {
    return await readlink(`${pgdata.anchor}/pg_wal`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EINVAL') return null;
    if (code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Writes `data` as `name` in `dir` (exclusive, never through a link), owned by `owner`, fsynced. */
export async function writeFileAt(dir: Dir, name: string, data: Buffer | string, owner: Owner | null, mode = 0o600): Promise<void> {
  const fh = await open(`${dir.anchor}/${name}`, WRITE, mode);
  try {
    await fh.writeFile(data);
    if (owner) await fh.chown(owner.uid, owner.gid);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Makes the directory `name` in `dir` (0700, owned by `owner`) and opens it; it must not exist yet. */
export async function makeDirAt(dir: Dir, name: string, owner: Owner | null): Promise<Dir> {
  await mkdir(`${dir.anchor}/${name}`, { mode: 0o700 });
  const made = await openDir(name, dir);
  if (owner) await chownDir(made, owner.uid, owner.gid, 0o700);
  return made;
}

/** Removes `name` in `dir` and everything below it, when it is a real directory (a link is only unlinked, never followed). */
export async function removeTreeAt(dir: Dir, name: string): Promise<void> {
  const st = await lstat(`${dir.anchor}/${name}`).catch(() => null);
  if (!st) return;
  if (st.isSymbolicLink()) await unlinkAt(dir, name);
  else await rm(`${dir.anchor}/${name}`, { recursive: true, force: true });
}

/** Renames `from` to `to` inside `dir` (both one name), fsynced. */
export async function renameAt(dir: Dir, from: string, to: string): Promise<void> {
  await rename(`${dir.anchor}/${from}`, `${dir.anchor}/${to}`);
  await fsyncDir(dir.anchor);
}

export interface CopyCheck {
  segSize: number;
  sysid: string;
  /** The LSN whose preceding byte must be written in the last named segment (a backup's stop LSN). */
  upTo?: bigint | null;
}

export interface CopyResult {
  segments: string[];
  histories: string[];
  bytes: number;
}

/** The names in a WAL directory a copy carries: segments and timeline histories (never .partial or archive_status). */
export async function walFileNames(dir: Dir): Promise<{ segments: string[]; histories: string[] }> {
  const names = (await readdir(dir.anchor)).sort();
  return { segments: names.filter(isSegmentName), histories: names.filter(isHistoryName) };
}

/**
 * Copies the named segments (each checked: the last against `upTo`) and every history file from `src` into
 * `dst` (a fresh directory); a missing or foreign segment fails the copy with what was found. `dst` gets an
 * empty archive_status/ and is fsynced.
 */
export async function copyWal(src: Dir, dst: Dir, segments: string[], check: CopyCheck, owner: Owner | null): Promise<CopyResult> {
  const { histories } = await walFileNames(src);
  const historyText = new Map<number, string>();
  let bytes = 0;
  for (const h of histories) {
    const buf = await readFileSafely({ dir: src, name: h }, { maxBytes: 2 ** 20 });
    if (!buf) continue;
    historyText.set(Number.parseInt(h.slice(0, 8), 16), buf.toString('utf8'));
    await writeFileAt(dst, h, buf, owner);
    bytes += buf.length;
  }
  for (const [i, name] of segments.entries()) {
    const buf = await readFileSafely({ dir: src, name }, { maxBytes: check.segSize });
    if (!buf) throw new CryptError(`the WAL segment ${name} is missing (removed or recycled since the backup started)`);
    const tli = parseWalFileName(name, check.segSize)?.tli ?? 0;
    const upTo = i === segments.length - 1 ? (check.upTo ?? null) : null;
    const { problems } = checkSegment(buf, { name, segSize: check.segSize, sysid: check.sysid, historyText: historyText.get(tli) ?? null, upTo });
    if (problems.length) throw new CryptError(`the WAL segment ${name} is not the one the backup needs: ${problems.join('; ')}`);
    await writeFileAt(dst, name, buf, owner);
    bytes += buf.length;
  }
  await mkdir(`${dst.anchor}/archive_status`, { mode: 0o700 }).catch((e) => {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  });
  if (owner) {
    const as = await openDir('archive_status', dst);
    try {
      await chownDir(as, owner.uid, owner.gid, 0o700);
    } finally {
      await closeDir(as);
    }
  }
  await fsyncDir(dst.anchor);
  return { segments, histories, bytes };
}

/** The segment size a WAL directory's segments were written with (the first one's long header). */
export async function segSizeIn(src: Dir): Promise<number> {
  for (const name of (await walFileNames(src)).segments) {
    const buf = await readFileSafely({ dir: src, name }, { maxBytes: 2 ** 30 });
    const size = buf ? readPageHeader(buf, 0)?.long?.segSize : undefined;
    if (size) return size;
  }
  throw new CryptError(`no WAL segment with a readable header in ${src.path}`);
}

/**
 * The segments a stopped cluster needs, from its last checkpoint's REDO segment on while each is really
 * written (a recycled or zeroed file ends the run): what makes a cleanly stopped PGDATA whole without its
 * outside WAL.
 */
export async function writtenSegmentsFrom(src: Dir, tli: number, redoLsn: string, segSize: number): Promise<string[]> {
  const first = segOf(parseLsn(redoLsn), segSize);
  const out: string[] = [];
  for (let segno = first; ; segno++) {
    const name = walFileName(tli, segno, segSize);
    const buf = await readFileSafely({ dir: src, name }, { maxBytes: segSize }).catch(() => undefined);
    if (!buf || writtenPages(buf) === 0) break;
    if (buf.readBigUInt64LE(8) !== segno * BigInt(segSize)) break; // a recycled file still carries its old address
    out.push(name);
  }
  if (!out.length) throw new CryptError(`the WAL segment ${walFileName(tli, first, segSize)} (the last checkpoint's) is missing from the WAL directory`);
  return out;
}
