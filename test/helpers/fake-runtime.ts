// A runtime directory in the shape scripts/build.mjs writes (entry, a chunk, manifest.json), without a build.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { computeManifest, MANIFEST } from '../../src/base/bundle/manifest.js';

/** Writes the runtime into `dir` (its chunk says `tag`); returns the entry. */
export async function fakeRuntime(dir: string, tag = 'one'): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const entry = path.join(dir, 'lychd-crypt.js');
  writeFileSync(entry, "#!/usr/bin/env node\nawait import('./chunk-a.js');\n", { mode: 0o755 });
  writeFileSync(path.join(dir, 'chunk-a.js'), `process.stdout.write(${JSON.stringify(`${tag}\n`)});\n`);
  writeFileSync(path.join(dir, MANIFEST), JSON.stringify(await computeManifest(dir, '0.1.0', [])));
  return entry;
}

/**
 * A stand-in runtime command of `version` at `<binDir>/lychd-crypt`, installed the way init installs one
 * (a link to the entry of a directory with its manifest), so doctor finds it whole and repair has nothing to do.
 */
export async function stubRuntime(binDir: string, version: string): Promise<void> {
  const dir = path.join(path.dirname(binDir), 'lib/lychd-crypt', `${version}-stub`);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  writeFileSync(path.join(dir, 'lychd-crypt.js'), `#!/bin/sh\necho ${version}\n`, { mode: 0o755 });
  writeFileSync(path.join(dir, MANIFEST), JSON.stringify(await computeManifest(dir, version, [])));
  mkdirSync(binDir, { recursive: true });
  symlinkSync(path.join(dir, 'lychd-crypt.js'), path.join(binDir, 'lychd-crypt'));
}
