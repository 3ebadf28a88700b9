// The outside WAL's generations (docs/wal.md): `<walDir>/gen-<UUID>`, one per history, linked from
// `<subvolume>/<PGDATA>/pg_wal`. Here: put a WAL copy into a snapshot's own PGDATA (replacing the link), fill a
// fresh generation from a snapshot's PGDATA (leaving the link), remove a generation by name. Every step can
// be run again after a crash: a half copy (`pg_wal.lychd-copy`) or a half generation is removed first.
import { lchown, readdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { CryptError } from '../errors.js';
import { faultPoint } from '../fault.js';
import { closeDir, openDir, openDirIfExists, unlinkAt, type Dir } from '../sys/fd.js';
import { fsyncDir } from '../sys/fs.js';
import { openTrustedDirOrThrow } from '../sys/trusted-path.js';
import { readFileSafely } from '../sys/read-file.js';
import { copyWal, makeDirAt, readWalLink, removeTreeAt, renameAt, segSizeIn, walFileNames, writeFileAt, writtenSegmentsFrom, type CopyCheck, type CopyResult, type Owner } from './files.js';
import type { ControlWal } from '../pg/controldata.js';
import { genName, isGenName } from './placement.js';
import type { SnapshotWal } from '../../model/snapshot-meta.js';

const COPY = 'pg_wal.lychd-copy';

/** The link target of a subvolume's pg_wal: its own generation under walDir. */
export const genPath = (walDir: string, uuid: string): string => path.join(walDir, genName(uuid));

/** Opens walDir (trusted path) and one generation in it; null when the generation does not exist. */
async function withGen<T>(walDir: string, gen: string, fn: (root: Dir, dir: Dir | null) => Promise<T>): Promise<T> {
  if (!isGenName(gen)) throw new CryptError(`refusing the WAL generation name ${JSON.stringify(gen)}`);
  const root = await openTrustedDirOrThrow(walDir);
  let dir: Dir | null = null;
  try {
    dir = await openDirIfExists(gen, root);
    return await fn(root, dir);
  } finally {
    await closeDir(dir);
    await closeDir(root);
  }
}

async function withPgdata<T>(subvol: string, pgDir: string, fn: (pgd: Dir) => Promise<T>): Promise<T> {
  const sub = await openDir(subvol);
  let pgd: Dir | null = null;
  try {
    pgd = await openDir(pgDir, sub);
    return await fn(pgd);
  } finally {
    await closeDir(pgd);
    await closeDir(sub);
  }
}

export interface EmbedRequest {
  /** The writable subvolume (a snapshot being made, or the replaced state) and PGDATA in it. */
  subvol: string;
  pgDir: string;
  walDir: string;
  /** The generation to copy from. */
  gen: string;
  /** The segments to copy, in order, and how each is checked — or a function choosing them from the generation. */
  choose: { segments: string[]; check: CopyCheck } | ((gen: Dir) => Promise<{ segments: string[]; check: CopyCheck }>);
  /** Files written into PGDATA with the copy (backup_label, tablespace_map). */
  files: { name: string; text: string }[];
  owner: Owner | null;
}

/**
 * The subvolume's PGDATA gets a real pg_wal holding the named segments (checked) and the history files,
 * in place of its link, plus `files`. Done when pg_wal is already a real directory (a re-run).
 */
export async function embedWal(r: EmbedRequest): Promise<CopyResult & { ms: number }> {
  const t0 = performance.now();
  return withPgdata(r.subvol, r.pgDir, async (pgd) => {
    const link = await readWalLink(pgd);
    if (link === null && !(await exists(pgd, COPY))) return { segments: [], histories: [], bytes: 0, ms: 0 };
    return withGen(r.walDir, r.gen, async (_root, src) => {
      if (!src) throw new CryptError(`the WAL directory ${path.join(r.walDir, r.gen)} is missing`);
      await removeTreeAt(pgd, COPY);
      const dst = await makeDirAt(pgd, COPY, r.owner);
      let result: CopyResult;
      try {
        const { segments, check } = typeof r.choose === 'function' ? await r.choose(src) : r.choose;
        result = await copyWal(src, dst, segments, check, r.owner);
      } finally {
        await closeDir(dst);
      }
      if ((await readWalLink(pgd)) !== undefined) await unlinkAt(pgd, 'pg_wal');
      await renameAt(pgd, COPY, 'pg_wal');
      for (const f of r.files) {
        await unlinkAt(pgd, f.name);
        await writeFileAt(pgd, f.name, f.text, r.owner);
      }
      await fsyncDir(pgd.anchor);
      return { ...result, ms: Math.round(performance.now() - t0) };
    });
  });
}

async function exists(dir: Dir, name: string): Promise<boolean> {
  return (await readdir(dir.anchor)).includes(name);
}

const ASIDE = 'pg_wal.lychd-moved';

export interface FillRequest {
  subvol: string;
  pgDir: string;
  walDir: string;
  gen: string;
  /** What pg_wal links to afterwards: the generation's path. */
  target: string;
  owner: Owner | null;
}

/**
 * The WAL of the subvolume's own pg_wal (every segment and history file, never archive_status or a .partial)
 * moved into a fresh generation `gen`, pg_wal left as a link to `target`: the rollback's fill (the staging
 * copy of a snapshot) and init's move of an existing cluster's WAL (active/, server stopped). In an order a
 * crash cannot hurt, each state finished by running it again: copy (fsynced; a half generation is made
 * again) → pg_wal renamed aside → the link → the aside copy removed. Done when pg_wal already links to
 * `target`; nothing to do without a pg_wal (no cluster yet).
 */
export async function fillGeneration(r: FillRequest): Promise<{ files: number; bytes: number }> {
  return withPgdata(r.subvol, r.pgDir, async (pgd) => {
    let link = await readWalLink(pgd);
    const aside = async () => (await readdir(pgd.anchor)).includes(ASIDE);
    if (typeof link === 'string' && link !== r.target) {
      throw new CryptError(`${r.subvol}/${r.pgDir}/pg_wal is a link to ${link}: it does not hold its own WAL, so it cannot be placed safely`, {
        hint: 'A snapshot taken by `lychd-crypt snapshot` has a real pg_wal; for the live state run `lychd-crypt doctor`.',
      });
    }
    let made = { files: 0, bytes: 0 };
    if (link === null) {
      made = await withGen(r.walDir, r.gen, async (root, old) => {
        if (old) await removeTreeAt(root, r.gen);
        const dst = await makeDirAt(root, r.gen, r.owner);
        try {
          const src = await openDir('pg_wal', pgd);
          try {
            const { segments, histories } = await walFileNames(src);
            let bytes = 0;
            for (const name of [...histories, ...segments]) {
              const buf = await readFileSafely({ dir: src, name }, { maxBytes: 2 ** 30 });
              if (!buf) continue;
              await writeFileAt(dst, name, buf, r.owner);
              bytes += buf.length;
            }
            await makeDirAt(dst, 'archive_status', r.owner).then(closeDir);
            await fsyncDir(dst.anchor);
            await fsyncDir(root.anchor);
            return { files: segments.length + histories.length, bytes };
          } finally {
            await closeDir(src);
          }
        } finally {
          await closeDir(dst);
        }
      });
      await renameAt(pgd, 'pg_wal', ASIDE);
      faultPoint('wal:aside');
      link = undefined;
    }
    if (link === undefined) {
      if (!(await aside())) return made; // no cluster here
      await symlink(r.target, `${pgd.anchor}/pg_wal`);
      // The link is the server's user's like everything in PGDATA (lchown: never its target).
      if (r.owner) await lchown(`${pgd.anchor}/pg_wal`, r.owner.uid, r.owner.gid);
      await fsyncDir(pgd.anchor);
    }
    if (await aside()) {
      await removeTreeAt(pgd, ASIDE);
      await fsyncDir(pgd.anchor);
    }
    return made;
  });
}

/** Removes the generation `gen` under walDir (by name only); false when it was not there. */
export async function removeGeneration(walDir: string, gen: string): Promise<boolean> {
  return withGen(walDir, gen, async (root, dir) => {
    if (!dir) return false;
    await removeTreeAt(root, gen);
    await fsyncDir(root.anchor);
    return true;
  });
}

/** The generation a subvolume's pg_wal links to (its name under walDir), null when it is not such a link. */
export async function linkedGen(subvol: string, pgDir: string, walDir: string): Promise<string | null> {
  return withPgdata(subvol, pgDir, async (pgd) => {
    const link = await readWalLink(pgd);
    if (!link || path.dirname(link) !== walDir || !isGenName(path.basename(link))) return null;
    return path.basename(link);
  });
}

/** A snapshot's metadata about the WAL copy it carries. */
export function walMeta(c: CopyResult & { ms: number }, o: Pick<SnapshotWal, 'restorePoint' | 'timeline' | 'held' | 'label'>): SnapshotWal {
  return {
    placement: 'outside',
    ...o,
    segments: { first: c.segments[0] ?? '', last: c.segments.at(-1) ?? '', count: c.segments.length },
    histories: c.histories,
    bytes: c.bytes,
    copyMs: c.ms,
  };
}

/** How a stopped cluster's WAL is chosen from its generation (control data: pg_controldata or pg_control). */
export const stoppedClusterWal =
  (cw: ControlWal) =>
  async (gen: Dir): Promise<{ segments: string[]; check: CopyCheck }> => {
    const segSize = cw.segSize ?? (await segSizeIn(gen));
    return { segments: await writtenSegmentsFrom(gen, cw.timeline, cw.redoLsn, segSize), check: { segSize, sysid: cw.systemIdentifier } };
  };
