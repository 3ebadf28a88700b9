// Lists a directory tree (lstat, no symlink following), for the attribute, owner and copy checks.
import { lstat, readdir } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';

export interface TreeEntry {
  /** Relative to the root; '' is the root itself. */
  rel: string;
  path: string;
  st: Stats;
}

const vanished = (e: unknown) => ['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '');

/**
 * A live tree changes while it is walked (PostgreSQL creates, recycles and removes WAL segments and
 * temporary files): an entry that vanishes between readdir and lstat is simply not listed. The root
 * itself must exist.
 */
export async function walkTree(root: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const visit = async (rel: string): Promise<void> => {
    const p = path.join(root, rel);
    let st: Stats;
    let names: string[] = [];
    try {
      st = await lstat(p);
      if (st.isDirectory()) names = (await readdir(p)).sort();
    } catch (e) {
      if (rel !== '' && vanished(e)) return;
      throw e;
    }
    out.push({ rel, path: p, st });
    for (const name of names) await visit(rel === '' ? name : path.join(rel, name));
  };
  await visit('');
  return out;
}
