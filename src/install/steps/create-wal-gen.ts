// create-wal-gen: active/'s own WAL generation under postgres.walDir (`gen-<UUID of active/>`, docs/wal.md),
// made 0700 for the server's user through the trusted walDir; a cluster made afterwards takes it with
// `initdb --waldir` (the outcome says the exact command). An existing one is left as it is.
import { lstat, mkdir } from 'node:fs/promises';
import { subvolumeShow } from '../../base/btrfs/subvolume.js';
import { chownDir, closeDir, openDir } from '../../base/sys/fd.js';
import { openTrustedDirOrThrow } from '../../base/sys/trusted-path.js';
import { genName } from '../../base/wal/placement.js';
import { readWalLink } from '../../base/wal/files.js';
import { fillGeneration } from '../../base/wal/generation.js';
import { readPostmaster } from '../../base/pg/postmaster.js';
import { RefusedError } from '../../base/errors.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

const gen = (s: StepOf<'create-wal-gen'>, uuid: string): string => `${s.walDir}/${genName(uuid)}`;

async function pgWalOf(pgdata: string): Promise<string | null | undefined> {
  const d = await openDir(pgdata).catch(() => null);
  if (!d) return undefined;
  try {
    return await readWalLink(d);
  } finally {
    await closeDir(d);
  }
}

const asideExists = (pgdata: string): Promise<boolean> => lstat(`${pgdata}/pg_wal.lychd-moved`).then(() => true, () => false);

export const createWalGen: StepModule<StepOf<'create-wal-gen'>> = {
  describe: (s) =>
    seq(
      `create active/'s WAL generation ${s.walDir}/gen-<UUID of active/> (postgres.walDir)`,
      { op: `btrfs subvolume show ${s.active} (its UUID names the generation)` },
      { op: `mkdir ${s.walDir}/gen-<UUID> (mode 0700, owner ${s.owner.uid}:${s.owner.gid}), through ${s.walDir} opened without following a link a user could have made` },
      Boolean(s.move) && { op: `with PostgreSQL stopped: copy ${s.pgdata}/pg_wal's segments and history files into it (fsynced), rename pg_wal aside, link pg_wal to it, remove the aside copy` },
    ),
  async probe(s, ctx) {
    const uuid = await subvolumeShow(ctx.runner, s.active).then((i) => i.uuid, () => null);
    if (!uuid) return wouldChange();
    if (s.move && (await pgWalOf(s.pgdata)) !== gen(s, uuid)) return wouldChange(`pg_wal moves to ${gen(s, uuid)}`);
    return (await lstat(gen(s, uuid)).catch(() => null))?.isDirectory() ? satisfied('exists') : wouldChange();
  },
  async apply(s, ctx) {
    const uuid = (await subvolumeShow(ctx.runner, s.active)).uuid;
    const path = gen(s, uuid);
    const root = await openTrustedDirOrThrow(s.walDir);
    try {
      const st = await lstat(`${root.anchor}/${genName(uuid)}`).catch(() => null);
      if (!st) {
        await mkdir(`${root.anchor}/${genName(uuid)}`, { mode: 0o700 });
        const d = await openDir(genName(uuid), root);
        try {
          await chownDir(d, s.owner.uid, s.owner.gid, 0o700);
        } finally {
          await closeDir(d);
        }
      } else if (!st.isDirectory()) {
        throw new Error(`${path} exists and is not a directory`);
      }
      let wal = await pgWalOf(s.pgdata);
      // A move interrupted between setting pg_wal aside and linking leaves no pg_wal: it is finished here too.
      if ((s.move || wal === undefined) && wal !== path && (s.move || (await asideExists(s.pgdata)))) {
        // Checked again right before: the server must not run on the WAL that moves.
        if ((await readPostmaster(s.pgdata)).running) {
          throw new RefusedError(`PostgreSQL runs on ${s.pgdata}: its WAL cannot move now; nothing of it was moved`, { hint: 'Stop PostgreSQL and run init again.' });
        }
        const moved = await fillGeneration({ subvol: s.active, pgDir: s.pgDir, walDir: s.walDir, gen: genName(uuid), target: path, owner: s.owner });
        wal = await pgWalOf(s.pgdata);
        return changed(`moved the cluster's WAL (${moved.files} files) to ${path}; pg_wal links to ${wal}`);
      }
      const next =
        wal === undefined
          ? `make the cluster with: initdb -D ${s.pgdata} --waldir ${path}`
          : wal === null
            ? `the existing cluster's pg_wal is still inside PGDATA: with the server stopped, move its contents to ${path} and link pg_wal there (lychd-crypt doctor says so)`
            : `pg_wal links to ${wal}`;
      return st ? unchanged(`exists; ${next}`) : changed(next);
    } finally {
      await closeDir(root);
    }
  },
};
