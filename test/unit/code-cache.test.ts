// V8's code cache for the runtime's bundle (src/base/bundle/code-cache.ts): used when it is this user's own in a
// directory no one else can write, written at exit when missing or rejected, and never followed through a
// link or read from a directory another user could have prepared. Real files and real V8 here; the bundle
// is a small CommonJS file.
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeCacheDir, ROOT_CODE_CACHE, untrustedCacheDir, type CacheUse } from '../../src/base/bundle/code-cache.js';
import { COMMAND_NAMES, commandWord, GLOBAL_OPTIONS_WITH_VALUE } from '../../src/cli/command-names.js';
import { programTree } from '../../src/cli/program.js';
import { checkCodeCache } from '../../src/care/check-runtime.js';
import { REPO, skipReason } from '../helpers/env.js';
import { trustedPlace } from '../helpers/host.js';

const uid = process.getuid?.() ?? -1;
// A place whose every directory up to / is root's alone, as the cache demands: made for the test, since
// the checkout itself may sit under /tmp (a fresh clone there) or below a directory another user owns.
// A user who is not root runs the tests that need no root in the checkout's ignored .scratch/.
const place = uid === 0 ? trustedPlace() : path.join(REPO, '.scratch');
mkdirSync(place, { recursive: true, mode: 0o755 });
const work = mkdtempSync(path.join(place, 'code-cache-test-'));
afterAll(() => rmSync(uid === 0 ? place : work, { recursive: true, force: true }));

let n = 0;
/** A bundle like main.js: CommonJS, exporting a function; `body` makes each one distinct. */
function bundle(body = 'return a + b;'): string {
  const file = path.join(work, `bundle-${n++}.js`);
  writeFileSync(file, `'use strict';\nfunction add(a, b) { ${body} }\nmodule.exports = { add, dir: __dirname, req: typeof require };\n`);
  return file;
}
// Each load is a process of its own, as a command is: V8 keeps what a process compiled in memory, so a
// second load in one process would never consult the cache. code-cache.ts is bundled for it as CommonJS.
const loader = path.join(work, 'code-cache.cjs');
beforeAll(async () => {
  await build({ entryPoints: [path.join(REPO, 'src/base/bundle/code-cache.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: loader, logLevel: 'silent' });
});
/** Loads `file` with the cache in `dir` in a new process (which writes the cache, when it does, at its exit). */
function load(file: string, dir: string | null, command = 'snapshot') {
  const script = `const { loadWithCodeCache } = require(${JSON.stringify(loader)});
const r = loadWithCodeCache(${JSON.stringify(file)}, ${JSON.stringify(command)}, ${JSON.stringify(dir)});
process.stdout.write(JSON.stringify({ cache: r.cache, sum: r.exports.add(2, 3), dir: r.exports.dir, req: r.exports.req }));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { cache: CacheUse; sum: number; dir: string; req: string };
}
const cacheFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.v8cache'));

describe('the code cache', () => {
  it('is written at exit, then used; the bundle runs as a CommonJS module either way', () => {
    const dir = path.join(work, 'c1');
    const file = bundle();
    const first = load(file, dir);
    expect(first.cache.state).toBe('missing');
    expect(first.sum).toBe(5);
    expect(first.dir).toBe(path.dirname(file));
    expect(first.req).toBe('function');
    const [written] = cacheFiles(dir);
    expect(written).toMatch(/^snapshot-.*\.v8cache$/);
    expect(lstatSync(path.join(dir, written!)).mode & 0o777).toBe(0o600);
    const second = load(file, dir);
    expect(second.cache.state).toBe('used');
    expect(second.sum).toBe(5);
  });

  it('one file per command; a changed bundle gets a new one; three builds per command stay', () => {
    const dir = path.join(work, 'c2');
    const file = bundle();
    load(file, dir, commandWord(['snapshot']));
    load(file, dir, commandWord(['--crypt', 'x', 'list']));
    load(file, dir, commandWord(['bogus'])); // not a command: one shared file, not one per typo
    expect(cacheFiles(dir).map((f) => f.split('-')[0]).sort()).toEqual(['list', 'other', 'snapshot']);
    // Same length, different code: the key (inode, size, mtime) changes with the file, so the old
    // cache — which V8 would accept for a source of the same length — is never used for it.
    writeFileSync(file, readFileSync(file, 'utf8').replace('a + b', 'a * b'));
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const changed = load(file, dir, 'snapshot');
    expect(changed.cache.state).toBe('missing');
    expect(changed.sum).toBe(6);
    expect(cacheFiles(dir).filter((f) => f.startsWith('snapshot-'))).toHaveLength(2);
    // Builds taking turns keep their caches (a benchmark of two builds, an upgrade); the oldest of four goes.
    expect(load(file, dir, 'snapshot').cache.state).toBe('used');
    const [b3, b4] = [bundle(), bundle()];
    load(b3, dir, 'snapshot');
    load(b4, dir, 'snapshot');
    expect(cacheFiles(dir).filter((f) => f.startsWith('snapshot-'))).toHaveLength(3);
    expect(load(file, dir, 'snapshot').cache.state).toBe('used');
    expect(load(b4, dir, 'snapshot').cache.state).toBe('used');
  });

  it('a cache V8 rejects (damaged, another Node) is compiled around and rewritten', () => {
    const dir = path.join(work, 'c3');
    const file = bundle();
    load(file, dir);
    const [name] = cacheFiles(dir);
    writeFileSync(path.join(dir, name!), Buffer.alloc(4096, 7), { mode: 0o600 });
    const bad = load(file, dir);
    expect(bad.cache.state).toBe('rejected');
    expect(bad.sum).toBe(5);
    expect(load(file, dir).cache.state).toBe('used');
  });

  it('is off with LYCHD_CRYPT_COMPILE_CACHE=0; root has its own directory; a user has the XDG cache', () => {
    expect(codeCacheDir({ LYCHD_CRYPT_COMPILE_CACHE: '0' }, 0)).toBeNull();
    expect(codeCacheDir({ LYCHD_CRYPT_COMPILE_CACHE: 'relative/dir' }, 0)).toBeNull();
    expect(codeCacheDir({ LYCHD_CRYPT_COMPILE_CACHE: '/x/y' }, 0)).toBe('/x/y');
    expect(codeCacheDir({ HOME: '/home/u' }, 0)).toBe(ROOT_CODE_CACHE);
    expect(codeCacheDir({ HOME: '/home/u' }, 1000)).toBe('/home/u/.cache/lychd-crypt/compile');
    expect(codeCacheDir({ HOME: '/home/u', XDG_CACHE_HOME: '/c' }, 1000)).toBe('/c/lychd-crypt/compile');
    expect(codeCacheDir({}, 1000)).toBeNull();
    const file = bundle();
    expect(load(file, null).cache.state).toBe('off');
  });

  it.skipIf(skipReason('root'))('root: not from a directory another user can write or owns, not under /tmp, not through a link', () => {
    const file = bundle();
    // A directory another user owns: what they put there is not root's code.
    const theirs = path.join(work, 'theirs');
    mkdirSync(theirs, { mode: 0o755 });
    chownSync(theirs, 65534, 65534);
    expect(untrustedCacheDir(theirs, 0)).toContain('belongs to uid 65534');
    expect(load(file, theirs).cache.state).toBe('untrusted');
    // Group- or world-writable on the way up; /tmp (whoever can write there could have made it first).
    const open = path.join(work, 'open/compile');
    mkdirSync(open, { recursive: true, mode: 0o700 });
    chmodSync(path.dirname(open), 0o777);
    expect(load(file, open).cache.state).toBe('untrusted');
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'lychd-cc-'));
    try {
      expect(untrustedCacheDir(path.join(tmp), 0)).toMatch(/\/tmp is writable by group or others/);
      expect(load(file, path.join(tmp, 'compile')).cache.state).toBe('untrusted');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    // Not made there either: root makes no directory below one another user owns (nor through their links).
    expect(load(file, path.join(theirs, 'not/yet')).cache.state).toBe('untrusted');
    expect(existsSync(path.join(theirs, 'not'))).toBe(false);
    // A link on the way: refused, even to a good directory.
    const good = path.join(work, 'good');
    mkdirSync(good, { mode: 0o700 });
    symlinkSync(good, path.join(work, 'via-link'));
    expect(load(file, path.join(work, 'via-link')).cache.state).toBe('untrusted');
  });

  it.skipIf(skipReason('root'))('root: a cache file that is a link, or not its own, or writable by others is not read', () => {
    const dir = path.join(work, 'c4');
    const file = bundle();
    load(file, dir);
    const [name] = cacheFiles(dir);
    const cache = path.join(dir, name!);
    // Swapped for a link to a good cache elsewhere: O_NOFOLLOW, not read (and the write replaces the link).
    const elsewhere = path.join(work, 'elsewhere.v8cache');
    renameSync(cache, elsewhere);
    symlinkSync(elsewhere, cache);
    const linked = load(file, dir);
    expect(linked.cache.state).toBe('missing');
    expect(lstatSync(cache).isFile()).toBe(true);
    expect(load(file, dir).cache.state).toBe('used');
    chownSync(cache, 65534, 65534);
    expect(load(file, dir).cache.state).toBe('missing');
    chownSync(cache, 0, 0);
    chmodSync(cache, 0o666);
    expect(load(file, dir).cache.state).toBe('missing');
    expect(existsSync(elsewhere)).toBe(true);
  });

  it.skipIf(skipReason('root'))('doctor (runtime.codecache): advice when the cache cannot be used, and it makes no directory', () => {
    const good = path.join(work, 'doctor-good/compile');
    expect(checkCodeCache({ LYCHD_CRYPT_COMPILE_CACHE: good }, 0)).toMatchObject({ status: 'ok', finding: `code cache in ${good}` });
    expect(existsSync(good)).toBe(false); // doctor changes nothing: the first command makes it
    const open = path.join(work, 'doctor-open');
    mkdirSync(open, { mode: 0o700 });
    chmodSync(open, 0o777);
    const bad = checkCodeCache({ LYCHD_CRYPT_COMPILE_CACHE: path.join(open, 'compile') }, 0);
    expect(bad.status).toBe('advice');
    expect(bad.finding).toContain(`${open} is writable by group or others`);
    expect(checkCodeCache({ LYCHD_CRYPT_COMPILE_CACHE: '0' }, 0).status).toBe('ok');
  });

  it("knows the CLI's commands and the global options that take a value (the entry picks the cache by them)", async () => {
    const tree = await programTree();
    expect(tree.commands.map((c) => c.name()).sort()).toEqual([...COMMAND_NAMES].sort());
    expect(tree.options.filter((o) => o.required || o.optional).map((o) => o.long).sort()).toEqual([...GLOBAL_OPTIONS_WITH_VALUE].sort());
    expect(commandWord(['--crypt', 'snapshot', 'list'])).toBe('list');
    expect(commandWord(['--json', '--wait', '5', 'snapshot', '--mode', 'none'])).toBe('snapshot');
    expect(commandWord(['--crypt=/c', 'rollback', 'x'])).toBe('rollback');
    expect(commandWord(['nonsense'])).toBe('other');
    expect(commandWord(['--help'])).toBe('other');
  });
});
