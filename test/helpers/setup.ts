// Runs before every test file: no test may read or write the host's registry (/etc/lychd-crypt) or
// root's state (/var/lib/lychd-crypt). Helpers that make a crypt point these at its scratch directory;
// anything else lands on a path under /proc, where nothing can be created, and fails loudly.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './env.js';
process.env.LYCHD_CRYPT_REGISTRY = '/proc/lychd-crypt-tests-have-no-registry';
process.env.LYCHD_CRYPT_STATE = '/proc/lychd-crypt-tests-have-no-state';
// Nor root's code cache (/var/cache/lychd-crypt/compile): the runtime commands tests run keep theirs in the
// checkout's ignored .scratch/ (outside /tmp, which the cache refuses), shared by the test files.
process.env.LYCHD_CRYPT_COMPILE_CACHE = path.join(REPO, '.scratch', 'code-cache');
mkdirSync(process.env.LYCHD_CRYPT_COMPILE_CACHE, { recursive: true, mode: 0o700 });
