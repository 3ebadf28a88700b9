// Node's compile cache (22.1+) is code the process runs: root uses it only in a directory root alone can
// write, never under /tmp; other users and a Node without the call get nothing from us.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { enableCompileCache } from '../../src/core/compile-cache.js';
import { REPO, skipReason } from '../helpers/env.js';

const fakeNode = () => {
  const calls: (string | undefined)[] = [];
  return { calls, mod: { enableCompileCache: (dir?: string) => calls.push(dir) } };
};
// A place outside /tmp whose every directory is root's alone (the checkout, ignored by git).
const base = path.join(REPO, '.scratch');
mkdirSync(base, { recursive: true, mode: 0o755 });
const safe = mkdtempSync(path.join(base, 'compile-cache-'));
afterAll(() => rmSync(safe, { recursive: true, force: true }));

describe('the compile cache', () => {
  it('does nothing on a Node without module.enableCompileCache (Node 20)', () => {
    expect(enableCompileCache({}, 0, {}, path.join(safe, 'a'))).toBeNull();
    expect(existsSync(path.join(safe, 'a'))).toBe(false);
  });

  it('leaves a user to Node (NODE_COMPILE_CACHE), and is off with LYCHD_CRYPT_COMPILE_CACHE=0', () => {
    const f = fakeNode();
    expect(enableCompileCache(f.mod, 1000, {}, path.join(safe, 'b'))).toBeNull();
    expect(enableCompileCache(f.mod, 0, { LYCHD_CRYPT_COMPILE_CACHE: '0' }, path.join(safe, 'b'))).toBeNull();
    expect(f.calls).toEqual([]);
  });

  it.skipIf(skipReason('root'))('root: only in a directory root alone can write, never under /tmp', () => {
    const f = fakeNode();
    const dir = path.join(safe, 'cache/compile');
    expect(enableCompileCache(f.mod, 0, {}, dir)).toBe(dir);
    expect(f.calls).toEqual([dir]);
    chmodSync(path.dirname(dir), 0o777);
    expect(enableCompileCache(f.mod, 0, {}, dir)).toBeNull();
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'lychd-cc-'));
    try {
      expect(enableCompileCache(f.mod, 0, {}, path.join(tmp, 'compile'))).toBeNull();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    expect(f.calls).toEqual([dir]);
  });
});
