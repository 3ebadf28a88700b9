// What verify does to the files of its clone before a server starts on it, and which image a container's
// clone runs. The clone's contents are its user's: PGDATA is opened without following links and changed
// fd-relative while the clone is locked (runtime/rollback/staging.ts) — in this process, or for a
// container's cluster in the owner's user namespace (base/userns/tree.ts), where its files are readable.
import path from 'node:path';
import { CryptError } from '../../base/errors.js';
import type { OpContext } from '../../base/context.js';
import type { PostgresConfig } from '../../model/config.js';
import { nsOp } from '../../base/userns/helper.js';
import { viewGid, viewUid } from '../../base/userns/view.js';
import { ownIds } from '../../base/userns/tree.js';
import { inspectContainer, runPodman } from '../../base/container/podman.js';
import { containerIdsOf, containerMaps, type ContainerMaps } from '../../base/container/mapping.js';
import { readTextSafely } from '../../base/sys/read-file.js';
import { closeDir, createFileAt, NotFollowedError, openDir, unlinkAt, type Dir } from '../../base/sys/fd.js';
import { exists } from '../../base/sys/fs.js';
import { lockClone } from '../rollback/staging.js';

/** Files that would make the clone start as a standby, or wait for archived WAL: never wanted here. */
export const RECOVERY_FILES = ['postmaster.pid', 'recovery.signal', 'standby.signal', 'backup_label', 'tablespace_map'];

async function inPgdata<T>(clone: string, dir: string, fn: (pgdata: Dir | null) => Promise<T>): Promise<T> {
  const locked = await lockClone(clone);
  try {
    const pgdata = await openDir(dir, locked.dir).catch((e: unknown) => {
      if (e instanceof NotFollowedError) throw new CryptError(`the snapshot's PGDATA ${dir}/ is a symbolic link or leads through one; it is not followed`);
      return null;
    });
    try {
      return await fn(pgdata);
    } finally {
      await closeDir(pgdata);
    }
  } finally {
    await locked.release();
  }
}

/** PG_VERSION's text in the clone's PGDATA; null when there is none (or no PGDATA). */
export const cloneVersionOp = nsOp('verify-version', (_ctx, clone: string, dir: string) =>
  inPgdata(clone, dir, async (pgdata) => (pgdata ? ((await readTextSafely({ dir: pgdata, name: 'PG_VERSION' }, { maxBytes: 64 }).catch(() => null)) ?? null) : null)),
);

/**
 * The recovery files removed; an empty postgresql.conf of the server's user made when there is none
 * (Debian-style clusters keep theirs in /etc: the clone runs on defaults plus verify's settings, enough to
 * prove the data recovers). true when it was made. `owner` in host ids.
 */
export const cleanCloneOp = nsOp('verify-clean', (_ctx, clone: string, dir: string, owner: { uid: number; gid: number }, remove: string[] = RECOVERY_FILES) =>
  inPgdata(clone, dir, async (pgdata) => {
    if (!pgdata) throw new CryptError(`the snapshot's PGDATA ${dir}/ vanished from the clone`);
    for (const f of remove) await unlinkAt(pgdata, f);
    if (await exists(path.join(pgdata.anchor, 'postgresql.conf'))) return false;
    await createFileAt(pgdata, 'postgresql.conf', '', 0o600, { uid: viewUid(owner.uid), gid: viewGid(owner.gid) });
    return true;
  }),
);

export interface CloneImage {
  /** What `podman run` gets: the image's ID (or the name given). */
  image: string;
  /** For the report. */
  shown: string;
  maps: ContainerMaps;
  /** The container's ids of the server's user (who owns the clone's files inside). */
  user: { uid: number; gid: number };
}

/**
 * The image a container's clone runs in: the crypt's container's own (it runs the cluster every day), or
 * the one given with `verify --image` — needed only when the container is gone (a Quadlet unit's `--rm`
 * container exists only while the unit runs) or runs another major version than the snapshot.
 */
export async function cloneImage(ctx: OpContext, pg: PostgresConfig, explicit: string | undefined): Promise<CloneImage> {
  const name = pg.container!.name;
  const c = await inspectContainer(ctx.runner, name).catch(() => null);
  const ids = ownIds();
  const maps = containerMaps(c, ids);
  const user = containerIdsOf({ uid: pg.uid, gid: pg.gid }, maps, ids);
  if (!user) {
    throw new CryptError(`the container ${name} does not map the cluster's owner (host uid ${pg.uid}) to any of its users`, {
      hint: 'Run `lychd-crypt doctor`: it shows the mapping the crypt expects and the container has.',
    });
  }
  if (explicit) {
    const r = await runPodman(ctx.runner, ['image', 'exists', '--', explicit]);
    if (r.exitCode !== 0) throw new CryptError(`the image ${explicit} (verify --image) is not in ${ids.uid === process.getuid?.() ? 'your' : "the owner's"} podman storage`, { hint: `Pull or load it first (podman pull ${explicit}).` });
    return { image: explicit, shown: `${explicit} (verify --image)`, maps, user };
  }
  if (!c) {
    throw new CryptError(`the container ${name} is not there, so its image is not known`, {
      hint: 'Start it (a Quadlet unit removes its container when it stops), or give the image: `lychd-crypt verify NAME --image IMAGE`.',
    });
  }
  return { image: c.image, shown: `${c.imageName || c.image}, the image of the container ${name}`, maps, user };
}
