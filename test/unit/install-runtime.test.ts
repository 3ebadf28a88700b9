// init's install of the runtime directory: a root-owned copy per build under <prefix>/lib/lychd-crypt/,
// the command a link to its entry; the previous build kept, older ones removed; a damaged source refused;
// and the trust check and doctor's manifest check seeing every file of the directory.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installRuntime } from '../../src/install/steps/install-runtime.js';
import { manifestProblems } from '../../src/base/bundle/manifest.js';
import { untrustedRuntimeReason } from '../../src/base/registry/trust.js';
import { fakeRuntime } from '../helpers/fake-runtime.js';
import { skipReason } from '../helpers/env.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-install-rt-'));
  chmodSync(dir, 0o755);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const install = (source: string, target: string) => installRuntime({ kind: 'install-runtime', source, target, mode: 0o755 });
const run = (cmd: string) => spawnSync(cmd, [], { encoding: 'utf8' });

describe('installing the runtime directory', () => {
  it('copies the build beside binDir, links the command to its entry, and keeps one earlier build', async () => {
    const target = path.join(dir, 'bin/lychd-crypt');
    const lib = path.join(dir, 'lib/lychd-crypt');
    expect((await install(await fakeRuntime(path.join(dir, 'b1'), 'one'), target)).changed).toBe(true);
    const first = readlinkSync(target);
    expect(path.dirname(path.dirname(first))).toBe(lib);
    expect(run(target).stdout).toBe('one\n');
    for (const name of readdirSync(path.dirname(first))) {
      const st = lstatSync(path.join(path.dirname(first), name));
      expect(st.isFile()).toBe(true);
      expect(st.mode & 0o022).toBe(0);
    }
    expect(await manifestProblems(path.dirname(first))).toEqual([]);
    expect((await install(path.join(dir, 'b1/lychd-crypt.js'), target)).changed).toBe(false);

    await install(await fakeRuntime(path.join(dir, 'b2'), 'two'), target);
    expect(run(target).stdout).toBe('two\n');
    expect(existsSync(first)).toBe(true); // a command still running from it finds its chunks
    await install(await fakeRuntime(path.join(dir, 'b3'), 'three'), target);
    expect(run(target).stdout).toBe('three\n');
    expect(existsSync(first)).toBe(false);
    expect(readdirSync(lib)).toHaveLength(2);
  });

  it('replaces a damaged copy of the same build, and refuses a damaged source', async () => {
    const target = path.join(dir, 'bin/lychd-crypt');
    const src = await fakeRuntime(path.join(dir, 'b1'));
    await install(src, target);
    const installed = path.dirname(readlinkSync(target));
    rmSync(path.join(installed, 'chunk-a.js'));
    expect(await manifestProblems(installed)).toEqual(['chunk-a.js is missing']);
    expect((await install(src, target)).changed).toBe(true);
    expect(await manifestProblems(installed)).toEqual([]);

    writeFileSync(path.join(dir, 'b1/chunk-a.js'), 'altered');
    await expect(install(src, target)).rejects.toThrow(/incomplete: chunk-a.js has been altered/);
  });
});

describe.skipIf(skipReason('root'))('trusting the runtime directory', () => {
  it('a chunk another user can write makes the whole runtime untrusted', async () => {
    const target = path.join(dir, 'bin/lychd-crypt');
    await install(await fakeRuntime(path.join(dir, 'b1')), target);
    expect(await untrustedRuntimeReason(target)).toBeNull();
    const chunk = path.join(path.dirname(readlinkSync(target)), 'chunk-a.js');
    chmodSync(chunk, 0o666);
    expect(await untrustedRuntimeReason(target)).toContain('chunk-a.js is writable by group or others');
    chmodSync(chunk, 0o644);
    spawnSync('chown', ['65534', chunk]);
    expect(await untrustedRuntimeReason(target)).toContain('chunk-a.js belongs to uid 65534');
  });
});
