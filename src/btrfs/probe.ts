// Cheap, unprivileged facts about paths on Btrfs: is it a subvolume, and which subvolumes or mounts
// are nested inside a tree (a snapshot stops at them, so their contents would silently be missing).
import { lstat, readdir, statfs } from 'node:fs/promises';
import path from 'node:path';

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
 * Finds subvolumes and mount points below `root` (not `root` itself). Every Btrfs subvolume has its own
 * st_dev, so a directory whose device differs from its parent's is a boundary; inode 256 on the same
 * device cannot happen for a plain directory. Only directories are stat'ed, and the walk does not
 * descend past a boundary.
 */
export async function listNestedSubvolumes(root: string): Promise<NestedBoundary[]> {
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
