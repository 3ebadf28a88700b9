// Once around the whole run: no test may leave root's registry, state or code cache on the host
// (test/helpers/setup.ts points every test at its own). A path that appeared during the run fails it, so a
// test that runs the CLI with an environment of its own making cannot write there unnoticed.
import { existsSync } from 'node:fs';

const HOST_PATHS = ['/etc/lychd-crypt', '/var/lib/lychd-crypt', '/var/cache/lychd-crypt'];

export default function setup(): () => void {
  const before = new Set(HOST_PATHS.filter((p) => existsSync(p)));
  return () => {
    const appeared = HOST_PATHS.filter((p) => !before.has(p) && existsSync(p));
    if (appeared.length) {
      process.exitCode = 1; // vitest reports an error thrown here but still exits 0
      throw new Error(`the tests left ${appeared.join(', ')} on the host: a test ran the CLI without the test environment (LYCHD_CRYPT_REGISTRY, LYCHD_CRYPT_STATE, LYCHD_CRYPT_COMPILE_CACHE)`);
    }
  };
}
