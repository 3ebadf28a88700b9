// Node 22.1+ keeps V8's compiled code of the modules it loads in a cache directory (module.enableCompileCache),
// which spares most of a start's parsing. Node 20 (what engines allows, and what Debian 12 ships) has no such
// call: there this is a no-op. A cache is code the process runs, so root uses one only in a directory that
// root alone can write (SPEC section 8: never /tmp, where Node puts it by default); other users get Node's
// own behaviour (NODE_COMPILE_CACHE, when they set it). LYCHD_CRYPT_COMPILE_CACHE=0 switches it off.
import { lstatSync, mkdirSync } from 'node:fs';
import nodeModule from 'node:module';
import path from 'node:path';

export const ROOT_COMPILE_CACHE = '/var/cache/lychd-crypt/compile';

type EnableCompileCache = (dir?: string) => unknown;

/** Why `dir` (and each directory above it) is not root's alone, or null. Synchronous: it runs before the CLI loads. */
function notRootsAlone(dir: string): string | null {
  for (let d = dir; ; d = path.dirname(d)) {
    const st = lstatSync(d);
    if (st.uid !== 0 || st.isSymbolicLink() || (st.mode & 0o022) !== 0) return `${d} is not root's alone`;
    if (d === '/') return null;
  }
}

/** Enables the compile cache where it is safe; returns the directory used, or null. */
export function enableCompileCache(
  mod: { enableCompileCache?: EnableCompileCache } = nodeModule as never,
  uid: number = process.getuid?.() ?? -1,
  env: NodeJS.ProcessEnv = process.env,
  dir: string = ROOT_COMPILE_CACHE,
): string | null {
  if (typeof mod.enableCompileCache !== 'function') return null; // Node < 22.1
  if (env.LYCHD_CRYPT_COMPILE_CACHE === '0' || uid !== 0) return null;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (notRootsAlone(dir)) return null;
    mod.enableCompileCache(dir);
    return dir;
  } catch {
    return null; // a read-only /var, say: start without the cache
  }
}
