// Once around the whole run: no test may leave root's registry, state or code cache on the host
// (test/helpers/setup.ts points every test at its own). A path that appeared during the run fails it, so a
// test that runs the CLI with an environment of its own making cannot write there unnoticed.
// The same for the places test/helpers/host.ts trustedPlace() may make outside the checkout (test homes, the
// code cache test's directories).
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

const HOST_PATHS = ['/etc/lychd-crypt', '/var/lib/lychd-crypt', '/var/cache/lychd-crypt'];
const HOMES_IN = ['/run', '/var/lib', '/home'];

function present(): string[] {
  const homes = HOMES_IN.flatMap((d) => (existsSync(d) ? readdirSync(d).filter((f) => f.startsWith('lychd-crypt-test-homes-')).map((f) => path.join(d, f)) : []));
  return [...HOST_PATHS.filter((p) => existsSync(p)), ...homes];
}

export default function setup(): () => void {
  const before = new Set(present());
  return () => {
    const appeared = present().filter((p) => !before.has(p));
    if (appeared.length) {
      process.exitCode = 1; // vitest reports an error thrown here but still exits 0
      throw new Error(`the tests left ${appeared.join(', ')} on the host: a test ran the CLI without the test environment (LYCHD_CRYPT_REGISTRY, LYCHD_CRYPT_STATE, LYCHD_CRYPT_COMPILE_CACHE), or did not clean up what it made`);
    }
  };
}
