// The single executable's pure parts: its SEA configuration (scripts/build-sea.mjs), the bundle read from its
// assets (src/base/bundle/code-cache.ts assetBundle, here with a stand-in for node:sea's getAsset), and how a
// command runs itself again as a crypt's owner (src/base/bundle/self.ts selfArgv).
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assetBundle, cacheName, loadWithCodeCache } from '../../src/base/bundle/code-cache.js';
import { selfArgv } from '../../src/base/bundle/self.js';
// @ts-expect-error: a build script, plain JavaScript
import { seaAssets, seaConfig } from '../../scripts/build-sea.mjs';

const work = mkdtempSync(path.join(os.tmpdir(), 'lychd-sea-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the single executable', () => {
  it('carries main.js and the vendored files as assets, with its code cache, no snapshot and no NODE_OPTIONS', () => {
    const names = ['koffi.node', 'lychd-crypt.js', 'main.js', 'manifest.json', 'package.json', 'vendor-zod.js', 'vendor-clack-core.js'];
    expect(seaAssets(names)).toEqual(['main.js', 'vendor-clack-core.js', 'vendor-zod.js']);
    expect(seaConfig('/b/dir', names, '/w/sea.blob')).toEqual({
      main: '/b/dir/lychd-crypt.js',
      output: '/w/sea.blob',
      disableExperimentalSEAWarning: true,
      useCodeCache: true,
      useSnapshot: false,
      execArgvExtension: 'none',
      assets: { 'main.js': '/b/dir/main.js', 'vendor-clack-core.js': '/b/dir/vendor-clack-core.js', 'vendor-zod.js': '/b/dir/vendor-zod.js' },
    });
  });

  it('loads main.js from its assets as if beside the executable; vendored files come from the assets once each', () => {
    const exe = path.join(work, 'lychd-crypt');
    writeFileSync(exe, 'an executable');
    const assets: Record<string, string> = {
      'main.js': "const a = require('./vendor-a.js'); const b = require('./vendor-b.js'); module.exports = { dir: __dirname, file: __filename, sum: a.n + b.n, same: a.b === b, path: typeof require('node:path').join };",
      'vendor-a.js': "module.exports = { n: 1, b: require('./vendor-b.js') };",
      'vendor-b.js': 'globalThis.__vendorB = (globalThis.__vendorB ?? 0) + 1; module.exports = { n: 2 };',
    };
    const asked: string[] = [];
    const bundle = assetBundle(exe, (name) => {
      asked.push(name);
      if (!(name in assets)) throw new Error(`no asset ${name}`);
      return assets[name]!;
    });
    // The cache's key is the executable's: a new build is a new file.
    expect(bundle.id.ino).toBe(statSync(exe).ino);
    expect(cacheName('snapshot', bundle.id)).toContain(`-${statSync(exe).dev}.${statSync(exe).ino}.${statSync(exe).size}.`);
    const loaded = loadWithCodeCache(bundle, 'snapshot', null);
    expect(loaded.exports).toEqual({ dir: work, file: path.join(work, 'main.js'), sum: 3, same: true, path: 'function' });
    expect((globalThis as { __vendorB?: number }).__vendorB).toBe(1);
    expect(asked.sort()).toEqual(['main.js', 'vendor-a.js', 'vendor-b.js']);
    expect(() => bundle.require('./vendor-missing.js')).toThrow(/no asset vendor-missing\.js/);
  });

  it('runs itself again as the owner: the executable alone, or node and the entry', () => {
    expect(selfArgv(true, '/usr/lib/lychd-crypt/lychd-crypt', '/usr/lib/lychd-crypt/lychd-crypt')).toEqual(['/usr/lib/lychd-crypt/lychd-crypt']);
    expect(selfArgv(false, '/usr/bin/node', '/usr/local/lib/lychd-crypt/0.1.0-x/lychd-crypt.js')).toEqual(['/usr/bin/node', '/usr/local/lib/lychd-crypt/0.1.0-x/lychd-crypt.js']);
    expect(selfArgv(false, '/usr/bin/node', '/srv/other.js')).toBeNull();
    expect(selfArgv(false, '/usr/bin/node', undefined)).toBeNull();
  });
});
