// Cheap, unprivileged facts about paths on Btrfs: is it a subvolume, and which subvolumes or mounts
// are nested inside a tree (a snapshot stops at them, so their contents would silently be missing).
import { nsOp } from '../userns/helper.js';
import { onTree } from '../userns/tree.js';
import { lstat, readdir, realpath, statfs } from 'node:fs/promises';
import type { Runner } from '../runner.js';
import path from 'node:path';
import { childSubvolumeCount, closeDir, openDir } from '../sys/fd.js';
import { readMountinfo } from '../sys/mountinfo.js';

/** statfs f_type of Btrfs. */
export const BTRFS_SUPER_MAGIC = 0x9123683e;
/** The root directory of every Btrfs subvolume has inode number 256 (BTRFS_FIRST_FREE_OBJECTID). */
export const SUBVOLUME_ROOT_INO = 256;

export async function isBtrfs(p: string): Promise<boolean> {
  return (await statfs(p)).type === BTRFS_SUPER_MAGIC;
}

/** True when `p` is the root of a Btrfs subvolume; false for anything else (and for missing paths). */
export async function isSubvolume(p: string): Promise<boolean> {
  try {
    const st = await lstat(p);
    return st.isDirectory() && st.ino === SUBVOLUME_ROOT_INO && (await isBtrfs(p));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

export interface NestedBoundary {
  /** Path relative to the scanned root. */
  path: string;
  /** A nested subvolume (or snapshot), or another filesystem mounted there. */
  kind: 'subvolume' | 'mount';
}

/**
 * Finds subvolumes and mount points below `root` (not `root` itself). With a runner (and root rights) it
 * asks btrfs and mountinfo, in time independent of the data; otherwise, or if that fails, it walks.
 */
export async function listNestedSubvolumes(root: string, runner?: Runner): Promise<NestedBoundary[]> {
  if (runner) {
    const fast = await listNestedFast(root, runner).catch(() => null);
    if (fast) return fast;
  }
  // A container's PGDATA below is its subordinate uid's: the walk goes where that is readable (base/userns/tree.ts).
  return onTree(root, null, nestedWalkOp, root);
}

export const nestedWalkOp = nsOp('nested-walk', (_ctx, root: string) => walkNested(root));

/** Mount points strictly below `root`, from /proc/self/mountinfo. */
export async function mountsBelow(root: string): Promise<string[]> {
  const real = await realpath(root);
  const below = (await readMountinfo()).map((m) => m.point).filter((p) => p.startsWith(`${real}/`));
  return [...new Set(below.map((p) => path.relative(real, p)))];
}

/**
 * O(subvolumes + mounts) instead of O(directories): `btrfs subvolume list -o` names the subvolumes whose
 * parent is root's subvolume (paths from the filesystem's top level, like the first line of `subvolume
 * show`), and mountinfo names the mounts. Needs root (tree search); returns null when the output is not
 * what we expect, so the caller walks instead.
 */
export async function listNestedFast(root: string, runner: Runner): Promise<NestedBoundary[] | null> {
  if (!(await isSubvolume(root))) return null;
  // Usually there is no nested subvolume: one ioctl says so, and no `btrfs` process is started.
  if ((await countChildren(root).catch(() => null)) === 0) return (await mountsBelow(root)).map((p): NestedBoundary => ({ path: p, kind: 'mount' })).sort((a, b) => a.path.localeCompare(b.path));
  const show = await runner.run(['btrfs', 'subvolume', 'show', root]);
  const self = show.stdout.split('\n')[0]!.trim().replace(/^<FS_TREE>\//, '');
  if (!self || self === '/') return null;
  const list = await runner.run(['btrfs', 'subvolume', 'list', '-o', root]);
  const found: NestedBoundary[] = [];
  for (const line of list.stdout.split('\n').filter(Boolean)) {
    const m = /^ID \d+ .*? path (.+)$/.exec(line);
    const p = m?.[1]?.replace(/^<FS_TREE>\//, '');
    if (!p || !p.startsWith(`${self}/`)) return null;
    found.push({ path: p.slice(self.length + 1), kind: 'subvolume' });
  }
  for (const mp of await mountsBelow(root)) {
    if (!found.some((f) => f.path === mp)) found.push({ path: mp, kind: 'mount' });
  }
  return found.sort((a, b) => a.path.localeCompare(b.path));
}

async function countChildren(root: string): Promise<number> {
  const dir = await openDir(root);
  try {
    return await childSubvolumeCount(dir);
  } finally {
    await closeDir(dir);
  }
}

/**
 * The unprivileged way: every Btrfs subvolume has its own st_dev, so a directory whose device differs from
 * its parent's is a boundary. Only directories are stat'ed, and the walk does not descend past a boundary;
 * its cost grows with the number of directories under root.
 */
async function walkNested(root: string): Promise<NestedBoundary[]> {
  const rootDev = (await lstat(root)).dev;
  const found: NestedBoundary[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      // Files may vanish while a live database runs; that is not a boundary.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      let st;
      try {
        st = await lstat(p);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      if (st.dev !== rootDev) {
        found.push({ path: path.relative(root, p), kind: st.ino === SUBVOLUME_ROOT_INO && (await isBtrfs(p)) ? 'subvolume' : 'mount' });
        continue;
      }
      await walk(p);
    }
  };
  await walk(root);
  return found.sort((a, b) => a.path.localeCompare(b.path));
}
