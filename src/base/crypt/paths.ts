// Where everything lives. The layout (active/, snapshots/) is on the crypt's filesystem; the tool's state
// (journal, lock, pg_ctl's log) lives outside the crypt, in a directory only its user can write — root's
// under /var/lib/lychd-crypt/<name> for a system crypt, the owner's ~/.local/state/lychd-crypt/<name> for a
// rootless one — so neither a rollback nor a less privileged user can change it.
import path from 'node:path';
import type { Config } from '../../model/config.js';

/** The state directory inside the crypt made by versions before the registry (no longer read). */
export const LEGACY_STATE_DIR = '.lychd-crypt';
/** Written into the mount-point directory before mounting: informative only, root never trusts it. */
export const MOUNT_RECORD = '.lychd-crypt-mount.json';
/** Native migration in progress: the original data moved aside, not yet fully copied into active/. */
export const MIGRATION_MARKER = '.lychd-crypt-migrating.json';
export const STAGING_PREFIX = '.staging-';

export interface CryptLayout {
  root: string;
  active: string;
  snapshots: string;
  mountRecord: string;
}

export interface CryptPaths extends CryptLayout {
  state: string;
  journal: string;
  lock: string;
  /** pg_ctl's log directory (owned by the postgres OS user). */
  pgLog: string;
}

export function cryptLayout(root: string): CryptLayout {
  return {
    root,
    active: path.join(root, 'active'),
    snapshots: path.join(root, 'snapshots'),
    mountRecord: path.join(root, MOUNT_RECORD),
  };
}

export function cryptPaths(root: string, state: string): CryptPaths {
  return {
    ...cryptLayout(root),
    state,
    journal: path.join(state, 'journal.json'),
    lock: path.join(state, 'lock'),
    pgLog: path.join(state, 'postgres'),
  };
}

/** The crypt's state directory, from its configuration (init records it in the registry too). */
export function stateDirFor(config: Pick<Config, 'profile' | 'crypt' | 'registry'>): string {
  return config.profile === 'rootless'
    ? path.join(config.crypt.home, '.local/state/lychd-crypt', config.crypt.name)
    : path.join(config.registry.state, config.crypt.name);
}

export function stagingPath(root: string, name: string): string {
  return path.join(root, `${STAGING_PREFIX}${name}`);
}

export function pgdataPath(root: string, dir: string): string {
  return path.join(root, 'active', dir);
}
