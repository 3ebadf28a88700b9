// Is a path root's alone? Root trusts a file only when no less privileged user could have written it:
// the file and every directory above it belong to root and are not writable by group or others (a
// sticky directory such as /tmp is allowed above, since there others cannot rename or replace what
// root owns).
import { lstat, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { RefusedError } from '../errors.js';
// Not from runtime-manifest.ts: that module loads node:crypto, which a runtime start need not parse.
import { MANIFEST } from '../bundle/packaged.js';

function problem(p: string, st: { uid: number; mode: number; isSymbolicLink(): boolean }, isLeafOrNonSticky: boolean): string | null {
  if (st.uid !== 0) return `${p} belongs to uid ${st.uid}, not root${st.isSymbolicLink() ? ' (a symbolic link)' : ''}`;
  // A root-owned link in a directory only root writes cannot be replaced; where it points is checked too.
  if (st.isSymbolicLink()) return null;
  const sticky = (st.mode & 0o1000) !== 0;
  if (st.mode & 0o022 && (isLeafOrNonSticky || !sticky)) return `${p} is writable by group or others (mode 0${(st.mode & 0o7777).toString(8)})`;
  return null;
}

/**
 * Why `p` is not root's alone, or null when it is. A missing path is judged by its nearest existing
 * ancestor. Symbolic links count only when root owns them, and then what they point to is judged as well.
 */
export async function untrustedReason(p: string): Promise<string | null> {
  const why = await chainReason(path.resolve(p));
  if (why) return why;
  const real = await realpath(p).catch(() => null);
  return real && real !== path.resolve(p) ? chainReason(real) : null;
}

async function chainReason(abs: string): Promise<string | null> {
  const chain: string[] = [];
  for (let d = abs; ; d = path.dirname(d)) {
    chain.unshift(d);
    if (d === '/') break;
  }
  let leaf = true;
  for (const d of chain.reverse()) {
    const st = await lstat(d).catch(() => null);
    if (!st) continue; // not there yet: its parent decides
    const why = problem(d, st, leaf);
    if (why) return why;
    leaf = false;
  }
  return null;
}

/**
 * Why root must not run the runtime command `entry`, or null: the entry (through its link) as above, and
 * — the runtime being a directory whose files the entry loads — every file in that directory too.
 */
export async function untrustedRuntimeReason(entry: string): Promise<string | null> {
  const why = await untrustedReason(entry);
  if (why) return why;
  const dir = path.dirname(await realpath(entry));
  // A runtime of the single-file layout sits in a shared bin directory: only the file itself is its own.
  if (!(await lstat(path.join(dir, MANIFEST)).catch(() => null))) return null;
  for (const name of (await readdir(dir)).sort()) {
    const p = path.join(dir, name);
    const st = await lstat(p);
    if (st.isSymbolicLink()) return `${p} is a symbolic link inside the runtime directory`;
    const bad = problem(p, st, true);
    if (bad) return bad;
  }
  return null;
}

/** Refuses (exit 3) to read or write `p` as root unless only root could have written it. */
export async function assertRootsOwn(p: string, what: string): Promise<void> {
  const why = await untrustedReason(p);
  if (why) {
    throw new RefusedError(`refusing to trust the ${what} ${p}: ${why}`, {
      hint: 'Root reads its definitions only from places no other user can write: fix the owner and mode (chown root: ; chmod go-w), or choose another directory.',
    });
  }
}
