// Where everything lives inside a crypt. Tool state sits beside active/, on the crypt's own
// filesystem, so a rollback (which swaps active/) never rolls it back.
import path from 'node:path';

export const STATE_DIR = '.lychd-crypt';
/** Written into the mount-point directory before mounting: readable while the crypt is unmounted. */
export const MOUNT_RECORD = '.lychd-crypt-mount.json';
/** Native migration in progress: the original data moved aside, not yet fully copied into active/. */
export const MIGRATION_MARKER = '.lychd-crypt-migrating.json';
export const STAGING_PREFIX = '.staging-';

export interface CryptPaths {
  root: string;
  active: string;
  snapshots: string;
  state: string;
  config: string;
  journal: string;
  lock: string;
  mountRecord: string;
}

export function cryptPaths(root: string): CryptPaths {
  const state = path.join(root, STATE_DIR);
  return {
    root,
    active: path.join(root, 'active'),
    snapshots: path.join(root, 'snapshots'),
    state,
    config: path.join(state, 'config.json'),
    journal: path.join(state, 'journal.json'),
    lock: path.join(state, 'lock'),
    mountRecord: path.join(root, MOUNT_RECORD),
  };
}

export function stagingPath(root: string, name: string): string {
  return path.join(root, `${STAGING_PREFIX}${name}`);
}

export function pgdataPath(root: string, dir: string): string {
  return path.join(root, 'active', dir);
}
