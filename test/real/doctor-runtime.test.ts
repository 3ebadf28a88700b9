// doctor's runtime.installed on what the single executable changed: the installed command is asked
// `--version --runtime`, so an addon beside it that does not load is found (`--version` alone never loads it);
// a command installed before the single executable (a Node-run lychd-crypt.js) is replaced by repair when this
// version is one, and is a problem when the host has no node to run it. Real built runtimes, real processes.
import { cpSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkRuntime } from '../../src/care/check-runtime.js';
import type { DoctorEnv } from '../../src/care/doctor-env.js';
import { computeManifest, MANIFEST } from '../../src/base/bundle/manifest.js';
import { createRunner } from '../../src/base/runner.js';
import { installRuntime } from '../../src/install/steps/install-runtime.js';
import { VERSION } from '../../src/base/version.js';
import { skipReason } from '../helpers/env.js';
import { trustedPlace } from '../helpers/host.js';
import { cliSuite } from '../helpers/suite.js';

const skip = skipReason('root');

describe.skipIf(skip)(`doctor's runtime check ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();
  // Root runs only a command no one else could have replaced: the prefix must be root's alone, so not /tmp.
  const places: string[] = [];
  afterEach(() => {
    for (const p of places.splice(0)) rmSync(p, { recursive: true, force: true });
  });
  const prefix = () => {
    const p = trustedPlace();
    places.push(p);
    return p;
  };

  /** A copy of `dir` as an installed build under `<prefix>/lib/lychd-crypt/`, `<prefix>/bin/lychd-crypt` linking its `entry`. */
  const install = (prefixDir: string, dir: string, entry: string, name = 'build') => {
    const dest = path.join(prefixDir, 'lib/lychd-crypt', name);
    cpSync(dir, dest, { recursive: true });
    mkdirSync(path.join(prefixDir, 'bin'), { recursive: true });
    symlinkSync(path.join(dest, entry), path.join(prefixDir, 'bin/lychd-crypt'));
    return dest;
  };
  const env = (prefixDir: string) => ({ config: { install: { binDir: path.join(prefixDir, 'bin') } }, runner: createRunner(), version: VERSION }) as unknown as DoctorEnv;
  /** A stand-in for a single executable build (its entry named lychd-crypt, a manifest): what repair would install. */
  const seaBuild = async (dir: string) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'lychd-crypt'), `#!/bin/sh\necho '{"version":"${VERSION}","node":"v24.0.0","sea":true,"addon":"2"}'\n`, { mode: 0o755 });
    writeFileSync(path.join(dir, MANIFEST), JSON.stringify(await computeManifest(dir, VERSION, [], { node: 'v24.0.0' })));
    return path.join(dir, 'lychd-crypt');
  };

  it('a runtime whose native addon does not load is a problem repair reinstalls, though its manifest is whole', async () => {
    const p = prefix();
    const built = path.dirname(suite.bundle);
    expect((await checkRuntime(env(p), async () => suite.bundle)).finding).toContain('is not installed');
    const dest = install(p, built, 'lychd-crypt.js');
    expect((await checkRuntime(env(p), async () => suite.bundle)).status).toBe('ok');
    // An addon for another machine (here: not an ELF file at all), listed as such in the manifest.
    writeFileSync(path.join(dest, 'koffi.node'), 'not a shared object');
    writeFileSync(path.join(dest, MANIFEST), JSON.stringify(await computeManifest(dest, VERSION, [])));
    const c = await checkRuntime(env(p), async () => suite.bundle);
    expect(c).toMatchObject({ status: 'problem', fix: { repair: expect.stringContaining('reinstall') } });
    expect(c.finding).toMatch(/cannot load its native addon .*koffi\.node/);
    expect(c.steps).toEqual([{ kind: 'install-runtime', source: suite.bundle, target: path.join(p, 'bin/lychd-crypt'), mode: 0o755, link: false }]);
  });

  it('a Node-run command installed before the single executable: repair installs the executable instead', async () => {
    const p = prefix();
    install(p, path.dirname(suite.bundle), 'lychd-crypt.js');
    const sea = await seaBuild(path.join(p, 'new-build'));
    const c = await checkRuntime(env(p), async () => sea);
    expect(c).toMatchObject({ status: 'problem', fix: { repair: expect.stringContaining('single executable') } });
    expect(c.finding).toMatch(/runs on the host's Node\.js .*lychd-crypt\.js/);
    // What repair applies: the single executable's directory, copied, and the command pointing at it.
    await installRuntime(c.steps[0] as Parameters<typeof installRuntime>[0]);
    expect(path.basename(await readlink(path.join(p, 'bin/lychd-crypt')))).toBe('lychd-crypt');
    const after = await checkRuntime(env(p), async () => sea);
    expect(after).toMatchObject({ status: 'ok' });
    expect(after.finding).toContain('single executable, Node.js v24.0.0');
  });

  it('a Node-run command on a host without node: fixable with a single executable to install, else said what to do', async () => {
    const p = prefix();
    const dir = path.join(p, 'old');
    mkdirSync(dir);
    // What `#!/usr/bin/env node` does without a node: env says so and exits 127.
    writeFileSync(path.join(dir, 'lychd-crypt.js'), '#!/usr/bin/env lychd-crypt-test-no-such-node\n', { mode: 0o755 });
    writeFileSync(path.join(dir, MANIFEST), JSON.stringify(await computeManifest(dir, VERSION, [])));
    install(p, dir, 'lychd-crypt.js');
    const withSea = await checkRuntime(env(p), async () => seaBuild(path.join(p, 'new-build')));
    expect(withSea).toMatchObject({ status: 'problem', fix: { repair: expect.stringContaining('needs no Node.js') } });
    expect(withSea.finding).toMatch(/runs on Node\.js .* and this host has no node/);
    const without = await checkRuntime(env(p), async () => suite.bundle);
    expect(without).toMatchObject({ status: 'problem', fix: { manual: expect.stringContaining('Debian package') } });
  });
});
