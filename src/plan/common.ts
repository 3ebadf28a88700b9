// Step builders shared by the planners: missing directories, the active/ layout, and the crypt's own state.
import path from 'node:path';
import type { Config, Owner } from '../config/config.js';
import { cryptPaths } from '../crypt/paths.js';
import type { Step } from './steps.js';

export const ROOT: Owner = { uid: 0, gid: 0 };

/** Missing directories from the top down, below the nearest existing one. */
export function createDirs(from: string, existing: string, ownerFor: (dir: string) => Owner): Step[] {
  const missing: string[] = [];
  for (let d = from; d !== existing && d !== '/'; d = path.dirname(d)) missing.unshift(d);
  return missing.map((p) => ({ kind: 'create-dir', path: p, mode: 0o755, owner: ownerFor(p) }));
}

/** Inside the user's home, new directories belong to the user (a root-owned ~/.local would lock them out). */
export function userOwned(config: Config): (dir: string) => Owner {
  const home = config.crypt.home.endsWith('/') ? config.crypt.home : `${config.crypt.home}/`;
  return (dir) => (dir.startsWith(home) ? { uid: config.crypt.uid, gid: config.crypt.gid } : ROOT);
}

/** active/ (owned by the target user) and PGDATA inside it, under `root` (the crypt or a temporary mount). */
export function activeSteps(root: string, config: Config): Step[] {
  const active = cryptPaths(root).active;
  const steps: Step[] = [{ kind: 'create-subvolume', path: active, owner: { uid: config.crypt.uid, gid: config.crypt.gid } }];
  if (config.postgres) {
    const { uid, gid, dir } = config.postgres;
    steps.push({ kind: 'create-pgdata', path: path.join(active, dir), owner: { uid, gid }, mode: 0o700 });
  }
  return steps;
}

/** snapshots/, the state directory (outside active/, so a rollback never rolls it back), config.json. */
export function stateSteps(config: Config): Step[] {
  const p = cryptPaths(config.crypt.path);
  return [
    { kind: 'create-dir', path: p.snapshots, mode: 0o755, owner: ROOT },
    { kind: 'create-dir', path: p.state, mode: 0o700, owner: ROOT },
    { kind: 'write-file', path: p.config, content: `${JSON.stringify(config, null, 2)}\n`, mode: 0o644 },
  ];
}

/** Where the original of migrated data is kept: beside the crypt path, named by the time of the run. */
export function backupPath(cryptPath: string, now: string): string {
  return `${cryptPath}.pre-lychd-crypt-${now.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
}
