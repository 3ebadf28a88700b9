// Proves a copy is exact before it replaces the original: the same entries, types, owners, modes,
// modification times, symlink targets, and byte-equal contents (SHA-256 of each regular file).
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readlink } from 'node:fs/promises';
import { walkTree, type TreeEntry } from './walk.js';

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  // PGDATA is the server user's: a file swapped for a link or a FIFO after the walk is not followed or
  // waited on (the read fails, and the copy is not proven).
  const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  for await (const chunk of fh.createReadStream()) h.update(chunk as Buffer); // closes fh at its end
  return h.digest('hex');
}

function kind(e: TreeEntry): string {
  const s = e.st;
  return s.isFile() ? 'file' : s.isDirectory() ? 'dir' : s.isSymbolicLink() ? 'symlink' : 'special';
}

/** Returns the first difference found, or null when `copy` is an exact copy of `original`. */
export async function compareTrees(original: string, copy: string): Promise<string | null> {
  const [a, b] = await Promise.all([walkTree(original), walkTree(copy)]);
  if (a.length !== b.length) return `${a.length} entries in the original, ${b.length} in the copy`;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const name = x.rel || '.';
    if (x.rel !== y.rel) return `entry ${name} vs ${y.rel || '.'}`;
    if (kind(x) !== kind(y)) return `${name}: ${kind(x)} became ${kind(y)}`;
    if (x.st.uid !== y.st.uid || x.st.gid !== y.st.gid) return `${name}: owner differs`;
    if (x.st.mode !== y.st.mode) return `${name}: mode differs`;
    if (kind(x) === 'symlink') {
      if ((await readlink(x.path)) !== (await readlink(y.path))) return `${name}: symlink target differs`;
      continue;
    }
    if (Math.trunc(x.st.mtimeMs) !== Math.trunc(y.st.mtimeMs)) return `${name}: modification time differs`;
    if (kind(x) === 'file') {
      if (x.st.size !== y.st.size) return `${name}: size differs`;
      if ((await sha256(x.path)) !== (await sha256(y.path))) return `${name}: contents differ`;
    }
  }
  return null;
}
