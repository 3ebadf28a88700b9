// Runs before every test file: no test may read or write the host's registry (/etc/lychd-crypt) or
// root's state (/var/lib/lychd-crypt). Helpers that make a crypt point these at its scratch directory;
// anything else lands on a path under /proc, where nothing can be created, and fails loudly.
process.env.LYCHD_CRYPT_REGISTRY = '/proc/lychd-crypt-tests-have-no-registry';
process.env.LYCHD_CRYPT_STATE = '/proc/lychd-crypt-tests-have-no-state';
