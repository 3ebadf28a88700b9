// Loads the runtime's bundle (main.js, CommonJS) with V8's code cache: what Node 22's
// module.enableCompileCache does, on the Node 20 that engines allows. Parsing and compiling the bundle is
// most of what a command's start costs (measured: `snapshot --mode none` 0.7× with the cache); the cache
// holds the compiled code of what a command ran, so the next run of that command deserializes instead.
//
// A cache is code the process runs. Root uses one only in a directory that root alone can write (SPEC
// section 8), other users one that only they (or root) can write: every directory up to / is checked, a
// symbolic link anywhere is refused, and so is /tmp and anything under it (whoever can write there could
// have made the directory first). The file is opened without following links and must be the user's own.
// Any doubt, or any error, and the bundle is compiled as if there were no cache: it only ever costs speed.
// One file per command and build (the key has the command and the inode, size and mtime of the bundle's file,
// or of the single executable that carries it), each holding that command's code, replaced when V8 rejects it
// (another Node); the newest three per command stay.
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

export const ROOT_CODE_CACHE = '/var/cache/lychd-crypt/compile';
const SUFFIX = '.v8cache';
// Per command: a few builds may take turns (an upgrade while the previous build still runs, two checkouts).
const KEEP = 3;

/** The cache directory for this user: LYCHD_CRYPT_COMPILE_CACHE (`0`: none), root's, or the XDG cache. */
export function codeCacheDir(env: NodeJS.ProcessEnv = process.env, uid: number = process.getuid?.() ?? -1): string | null {
  const set = env.LYCHD_CRYPT_COMPILE_CACHE;
  if (set === '0') return null;
  if (set) return path.isAbsolute(set) ? set : null;
  if (uid === 0) return ROOT_CODE_CACHE;
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : env.HOME && path.isAbsolute(env.HOME) ? path.join(env.HOME, '.cache') : null;
  return base ? path.join(base, 'lychd-crypt', 'compile') : null;
}

/**
 * Why `dir` may not hold code that `uid` runs (see the top), or null when it may; a missing directory is
 * judged by its nearest existing ancestor (it would be made there). Not base/registry/trust.ts's root-alone
 * check: a user's own directories count here, and a sticky /tmp or any link does not (this directory is
 * made by us, never shared).
 */
export function untrustedCacheDir(dir: string, uid: number): string | null {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const st = lstatSync(d, { throwIfNoEntry: false }); // not there yet: its parent decides
    if (st?.isSymbolicLink()) return `${d} is a symbolic link`;
    if (st && !st.isDirectory()) return `${d} is not a directory`;
    if (st && st.uid !== uid && st.uid !== 0) return `${d} belongs to uid ${st.uid}`;
    if (st && st.mode & 0o022) return `${d} is writable by group or others`;
    if (d === '/') return null;
  }
}

/**
 * Makes `dir` (mkdir -p) only below a directory that is already trustworthy, then checks it: creating it
 * through another user's directory, or a link they planted there, would put root's directories where they
 * chose. Returns why it may not be used, or null.
 */
function trustedDir(dir: string, uid: number): string | null {
  const why = untrustedCacheDir(dir, uid);
  if (why) return why;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return untrustedCacheDir(dir, uid);
}

/** The cache file's name: the command, and what identifies this bundle file and this Node. */
export function cacheName(command: string, st: { dev: number; ino: number; size: number; mtimeMs: number }): string {
  const word = /^[a-z][a-z-]{0,31}$/.test(command) ? command : 'other';
  return `${word}-${st.dev}.${st.ino}.${st.size}.${Math.trunc(st.mtimeMs)}-${process.version}-${process.arch}${SUFFIX}`;
}

/** The file's bytes when it is a regular file of `uid`'s that no one else can write; else undefined. */
function readOwn(file: string, uid: number): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    return st.isFile() && st.uid === uid && !(st.mode & 0o022) ? readFileSync(fd) : undefined;
  } finally {
    closeSync(fd);
  }
}

/** Writes the cache file whole (a new file, then renamed over); of this command's files the newest KEEP stay. */
function writeCache(dir: string, name: string, data: Buffer): void {
  const tmp = path.join(dir, `.${name}.${process.pid}.${Math.random().toString(36).slice(2)}`);
  try {
    writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' }); // wx: O_EXCL, never through a planted link
    renameSync(tmp, path.join(dir, name));
  } catch (e) {
    rmSync(tmp, { force: true }); // a disk that filled up mid-write keeps no half file
    throw e;
  }
  const command = `${name.slice(0, name.indexOf('-'))}-`;
  const mine = readdirSync(dir)
    .filter((f) => f.startsWith(command) && f.endsWith(SUFFIX))
    .map((f) => ({ f, at: f === name ? Infinity : lstatSync(path.join(dir, f)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  for (const { f } of mine.slice(KEEP)) unlinkSync(path.join(dir, f));
}

/** A CommonJS bundle to load: its text, where it says it is, what identifies its build, and its require. */
export interface Bundle {
  /** Its __filename (stack traces; main.js finds koffi.node beside it, in __dirname). */
  file: string;
  source: string;
  /** The file that carries this build: the cache's key is made from it. */
  id: { dev: number; ino: number; size: number; mtimeMs: number };
  require: NodeJS.Require;
}

/** The bundle in the file `file`, read through one descriptor (its key from the same file that was read). */
export function fileBundle(file: string): Bundle {
  const fd = openSync(file, 'r');
  try {
    return { file, id: fstatSync(fd), source: readFileSync(fd, 'utf8'), require: Module.createRequire(file) };
  } finally {
    closeSync(fd);
  }
}

/** What a single executable application's blob holds: its assets by name (node:sea's getAsset). */
export type Assets = (name: string) => string;

/**
 * The bundle main.js inside the single executable `exe` (its assets), as if it lay beside it: __dirname is the
 * executable's directory, where koffi.node is. Its `require` serves the vendored files (`./vendor-*.js`) from
 * the assets too, each evaluated once, like Node's require would from the directory; the rest (Node's
 * built-in modules) as usual. The key is the executable's: a new build is a new file.
 */
export function assetBundle(exe: string, getAsset: Assets): Bundle {
  const dir = path.dirname(exe);
  const file = path.join(dir, 'main.js');
  const base = Module.createRequire(file);
  const vendored = new Map<string, { exports: unknown }>();
  const require = ((id: string) => {
    const name = /^\.\/(vendor-[a-z0-9-]+\.js)$/.exec(id)?.[1];
    if (!name) return base(id);
    let mod = vendored.get(name);
    if (!mod) {
      mod = { exports: {} };
      vendored.set(name, mod); // before it runs: a vendored file requiring another finds it, as require's cache would
      runWrapped(new vm.Script(Module.wrap(getAsset(name)), { filename: path.join(dir, name) }), mod, require, path.join(dir, name));
    }
    return mod.exports;
  }) as NodeJS.Require;
  return { file, id: statSync(exe), source: getAsset('main.js'), require };
}

/** Runs a script compiled from Module.wrap(source) as the CommonJS module `mod` of `file`. */
function runWrapped(script: vm.Script, mod: { exports: unknown }, require: NodeJS.Require, file: string): void {
  const wrapper = script.runInThisContext() as (e: unknown, r: NodeJS.Require, m: unknown, f: string, d: string) => void;
  wrapper.call(mod.exports, mod.exports, require, mod, file, path.dirname(file));
}

export interface CacheUse {
  /** Whether a cache was used, and if not why not (the tests read it). */
  state: 'off' | 'untrusted' | 'missing' | 'used' | 'rejected';
  file?: string;
}

/**
 * Loads the CommonJS `bundle` (a file, or one fileBundle/assetBundle made) as Node would (module, exports,
 * require) and returns its exports, compiling it from the code cache for `command` in `dir` when there is a
 * trustworthy one. Without one (or when V8 rejects it) the cache is written when the process exits, with what
 * this run compiled.
 */
export function loadWithCodeCache(
  bundle: string | Bundle,
  command: string,
  dir: string | null,
  { uid = process.getuid?.() ?? -1, atExit = (f: () => void) => void process.once('exit', f) }: { uid?: number; atExit?: (f: () => void) => void } = {},
): { exports: unknown; cache: CacheUse } {
  const { file, source, id, require } = typeof bundle === 'string' ? fileBundle(bundle) : bundle;
  let cache: CacheUse = { state: 'off' };
  let cachedData: Buffer | undefined;
  if (dir) {
    try {
      const why = trustedDir(dir, uid);
      if (why) cache = { state: 'untrusted' };
      else {
        const cacheFile = path.join(dir, cacheName(command, id));
        cachedData = readOwn(cacheFile, uid);
        cache = { state: cachedData ? 'used' : 'missing', file: cacheFile };
      }
    } catch {
      cache = { state: 'untrusted' }; // a read-only /var, a missing HOME: start without it
    }
  }
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  if (cachedData && script.cachedDataRejected) cache = { ...cache, state: 'rejected' };
  if ((cache.state === 'missing' || cache.state === 'rejected') && cache.file) {
    const target = cache.file;
    // At exit, so the cache holds what this command compiled, not only the bundle's top level.
    atExit(() => {
      try {
        writeCache(path.dirname(target), path.basename(target), script.createCachedData());
      } catch {
        // a full disk or a read-only cache directory: the next run compiles again
      }
    });
  }
  const mod = { exports: {} as unknown };
  runWrapped(script, mod, require, file);
  return { exports: mod.exports, cache };
}
