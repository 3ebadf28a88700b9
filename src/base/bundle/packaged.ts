// Where the runtime lives. The runtime is a directory (scripts/build.mjs): an entry, lychd-crypt.js, the
// bundle main.js, the vendored packages, koffi's addon and manifest.json. The Debian package puts it in
// /usr/lib/lychd-crypt/ (/usr/bin/lychd-crypt links to its entry); when that exists, init and repair link
// the crypt's runtime command to it instead of installing their own copy.
import path from 'node:path';

export const RUNTIME_ENTRY = 'lychd-crypt.js';
/** The runtime directory's list of its files and their digests (src/base/bundle/manifest.ts). */
export const MANIFEST = 'manifest.json';
export const PACKAGED_RUNTIME = `/usr/lib/lychd-crypt/${RUNTIME_ENTRY}`;

/**
 * Where init installs its copy of the runtime for the command `<binDir>/lychd-crypt`: beside binDir, as the
 * usual prefix layout has it (/usr/local/bin → /usr/local/lib/lychd-crypt/), one directory per build.
 */
export function runtimeInstallDir(target: string): string {
  return path.join(path.dirname(path.dirname(target)), 'lib', 'lychd-crypt');
}
