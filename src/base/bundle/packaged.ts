// Where the runtime lives. A runtime is a directory with its manifest.json and an entry: the single executable
// application `lychd-crypt` (scripts/build-sea.mjs: Node.js with the bundle inside, koffi.node beside it), or
// the Node-run directory of scripts/build.mjs (the entry lychd-crypt.js, main.js, vendor-*.js, koffi.node),
// which the tests and the Node-run npm package use. The Debian package puts the single executable in
// /usr/lib/lychd-crypt/ (/usr/bin/lychd-crypt links to it); when that exists, init and repair link the crypt's
// runtime command to it instead of installing their own copy.
import path from 'node:path';

/** The single executable's name, and the Node-run directory's entry. */
export const SEA_ENTRY = 'lychd-crypt';
export const NODE_ENTRY = 'lychd-crypt.js';
/** The runtime directory's list of its files and their digests (src/base/bundle/manifest.ts). */
export const MANIFEST = 'manifest.json';
export const PACKAGED_RUNTIME = `/usr/lib/lychd-crypt/${SEA_ENTRY}`;

/**
 * Where init installs its copy of the runtime for the command `<binDir>/lychd-crypt`: beside binDir, as the
 * usual prefix layout has it (/usr/local/bin → /usr/local/lib/lychd-crypt/), one directory per build.
 */
export function runtimeInstallDir(target: string): string {
  return path.join(path.dirname(path.dirname(target)), 'lib', 'lychd-crypt');
}
