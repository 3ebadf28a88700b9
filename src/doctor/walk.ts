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

export async function walkTree(root: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const visit = async (rel: string): Promise<void> => {
    const p = path.join(root, rel);
    const st = await lstat(p);
    out.push({ rel, path: p, st });
    if (!st.isDirectory()) return;
    for (const name of (await readdir(p)).sort()) await visit(rel === '' ? name : path.join(rel, name));
  };
  await visit('');
  return out;
}
