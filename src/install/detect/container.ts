// What init learns about PostgreSQL in the crypt user's rootless Podman (reads only): the user's containers
// as its own podman sees them (asked as that user: root never reads the user's podman storage itself), its
// subordinate ranges, and who owns the crypt's PGDATA now (a cluster already there must belong to the
// container's postgres as podman maps it).
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Runner } from '../../base/runner.js';
import { listContainers, pgdataOnHost, type ContainerFacts } from '../../base/container/podman.js';
import { ownerIds } from '../../base/userns/tree.js';
import type { OwnerIds } from '../../base/userns/ids.js';
import type { UserFacts } from './facts.js';

export interface ContainerDetect {
  /** The user's containers; null when podman could not be asked (`why`). */
  containers: ContainerFacts[] | null;
  why: string | null;
  owner: OwnerIds;
}

export interface PgdataOwnerFacts {
  path: string;
  uid: number;
  gid: number;
  /** Entries in it. */
  entries: number;
  /** PG_VERSION is there: a cluster. */
  hasCluster: boolean;
}

/** The user's containers and ids; podman is asked as the user when we are root. */
export async function detectContainers(runner: Runner, user: UserFacts): Promise<ContainerDetect> {
  const owner = ownerIds(user);
  const as = process.getuid?.() === 0 ? { name: user.name, uid: user.uid, gid: user.gid, home: user.home } : null;
  try {
    return { containers: await listContainers(runner, as), why: null, owner };
  } catch (e) {
    return { containers: null, why: (e as Error).message, owner };
  }
}

/** PGDATA's owner and content now (root reads it as it is; never through a link). */
export async function detectPgdataOwner(pgdata: string): Promise<PgdataOwnerFacts | null> {
  const st = await lstat(pgdata).catch(() => null);
  if (!st?.isDirectory()) return null;
  const names = await readdir(pgdata).catch(() => [] as string[]);
  return { path: pgdata, uid: st.uid, gid: st.gid, entries: names.length, hasCluster: names.includes('PG_VERSION') };
}

/**
 * The containers that keep data in `active/` of the crypt at `cryptPath`: by where their PGDATA is (their
 * environment and mounts), else by any bind mount from there. `dir` is that place relative to active/;
 * `pgdata` says whether it is the container's PGDATA (else init explains what is wrong with it).
 */
export interface OnCrypt {
  container: ContainerFacts;
  dir: string;
  pgdata: boolean;
}

export function containersOnCrypt(containers: readonly ContainerFacts[], cryptPath: string): OnCrypt[] {
  const active = path.join(cryptPath, 'active');
  const under = (p: string) => {
    const rel = path.relative(active, p);
    return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : null;
  };
  return containers.flatMap((c): OnCrypt[] => {
    const host = pgdataOnHost(c);
    const dir = host ? under(host.path) : null;
    if (dir) return [{ container: c, dir, pgdata: true }];
    const m = c.mounts.find((x) => x.type === 'bind' && under(x.source));
    return m ? [{ container: c, dir: under(m.source)!, pgdata: false }] : [];
  });
}
