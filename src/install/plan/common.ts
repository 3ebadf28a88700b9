// Step builders shared by the planners: missing directories, the active/ layout, and the crypt's own state.
import path from 'node:path';
import type { Config, Owner } from '../../model/config.js';
import { cryptLayout, stateDirFor } from '../../base/crypt/paths.js';
import type { HostFacts } from '../detect/facts.js';
import type { ActAs, CryptFs, InitStep } from '../../model/steps.js';

export const ROOT: Owner = { uid: 0, gid: 0 };

/** Missing directories from the top down, below the nearest existing one. */
export function createDirs(from: string, existing: string, ownerFor: (dir: string) => Owner): InitStep[] {
  const missing: string[] = [];
  for (let d = from; d !== existing && d !== '/'; d = path.dirname(d)) missing.unshift(d);
  return missing.map((p) => ({ kind: 'create-dir', path: p, mode: 0o755, owner: ownerFor(p) }));
}

/** Inside the user's home, new directories belong to the user (a root-owned ~/.local would lock them out). */
export function userOwned(config: Config): (dir: string) => Owner {
  const home = config.crypt.home.endsWith('/') ? config.crypt.home : `${config.crypt.home}/`;
  return (dir) => (dir.startsWith(home) ? { uid: config.crypt.uid, gid: config.crypt.gid } : ROOT);
}

/**
 * The filesystem init builds the crypt on, as the steps that act inside it check it: the UUID mkfs gives
 * it (or the one the image or device already holds); a native crypt is a directory of the Btrfs host.
 */
export function cryptFsFor(facts: HostFacts, config: Config, root = config.crypt.path): CryptFs {
  if (config.method === 'native') return { root, uuid: null };
  if (config.method === 'partition') return { root, uuid: config.partition!.uuid! };
  const held = facts.image?.exists ? facts.image.signatures.find((s) => s.type === 'btrfs')?.uuid : undefined;
  return { root, uuid: held ?? facts.newUuid };
}

/** The crypt's user, who owns what was at the crypt path before. */
export const cryptUser = (config: Config): ActAs => ({ user: config.crypt.user, uid: config.crypt.uid, gid: config.crypt.gid });

/** active/ (owned by the target user) and PGDATA inside it, in `fs` (the crypt or a temporary mount). */
export function activeSteps(fs: CryptFs, config: Config): InitStep[] {
  const active = cryptLayout(fs.root).active;
  const steps: InitStep[] = [{ kind: 'create-subvolume', path: active, owner: { uid: config.crypt.uid, gid: config.crypt.gid }, fs }];
  if (config.postgres) {
    const { uid, gid, dir, container } = config.postgres;
    const user = { uid: config.crypt.uid, gid: config.crypt.gid };
    // Directories above PGDATA (LychD's postgres/data) are the crypt user's.
    steps.push(...dirsBelow(active, path.dirname(path.join(active, dir)), user, 0o755).map((d) => ({ ...d, fs })));
    // A container's PGDATA is made the crypt user's: its first start (`:U`, as that user) gives it to the container's postgres.
    steps.push({ kind: 'create-pgdata', path: path.join(active, dir), owner: container ? user : { uid, gid }, mode: 0o700, fs, ...(container ? { taken: { uid, gid } } : {}) });
  }
  return steps;
}

/** Who owns the crypt's root and snapshots/: root for a system crypt; the owner, who snapshots and deletes, for a rootless one. */
export function layoutOwner(config: Config): Owner {
  return config.profile === 'rootless' ? { uid: config.crypt.uid, gid: config.crypt.gid } : ROOT;
}

/** Each missing directory from `top` (exclusive) down to `dir`, as create-dir steps (existing ones stay as they are). */
export function dirsBelow(top: string, dir: string, owner: Owner, mode: number): InitStep[] {
  const rel = path.relative(top, dir).split('/').filter(Boolean);
  return rel.map((_, i) => ({ kind: 'create-dir' as const, path: path.join(top, ...rel.slice(0, i + 1)), mode: i === rel.length - 1 ? mode : 0o755, owner }));
}

/**
 * The crypt root and snapshots/ (owned per profile, so on a system crypt no user can rename or replace
 * what root acts on), the state directory outside the crypt, and the registry entry, written last: it
 * records the identity of what was just built.
 */
export function stateSteps(config: Config, fs: CryptFs): InitStep[] {
  const p = cryptLayout(config.crypt.path);
  const owner = layoutOwner(config);
  const state = stateDirFor(config);
  const stateOwner = config.profile === 'rootless' ? owner : ROOT;
  const stateTop = config.profile === 'rootless' ? config.crypt.home : path.dirname(config.registry.state);
  return [
    { kind: 'own-dir', path: p.root, owner, mode: 0o755, fs },
    { kind: 'create-dir', path: p.snapshots, mode: 0o755, owner, fs },
    { kind: 'own-dir', path: p.snapshots, owner, mode: 0o755, fs },
    // 0711 for root's: the postgres OS user must reach its log directory inside, and nothing more.
    ...dirsBelow(stateTop, state, stateOwner, config.profile === 'rootless' ? 0o700 : 0o711),
    // A rootless crypt's replication is root's: its record (0644, the owner reads it) lives in root's state,
    // made here because root's service runs with a read-only file system beyond the paths it writes.
    ...(config.profile === 'rootless' && config.replicate?.targets.length
      ? dirsBelow(path.dirname(config.registry.state), path.join(config.registry.state, config.crypt.name), ROOT, 0o755)
      : []),
    ...dirsBelow(path.dirname(config.registry.dir), config.registry.dir, ROOT, 0o755),
    { kind: 'register', dir: config.registry.dir, name: config.crypt.name, stateDir: state, config, fs },
  ];
}

/** Where the original of migrated data is kept: beside the crypt path, named by the time of the run. */
export function backupPath(cryptPath: string, now: string): string {
  return `${cryptPath}.pre-lychd-crypt-${now.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
}

/**
 * postgres.walDir (docs/wal.md): its missing directories (the root 0755: root's, or the owner's in their home)
 * and active/'s generation for the server's user.
 */
export function walSteps(facts: HostFacts, config: Config): InitStep[] {
  const pg = config.postgres;
  if (!pg?.walDir) return [];
  const existing = facts.walPlacement?.existing ?? '/';
  const p = cryptLayout(config.crypt.path);
  const move = facts.walNow?.pgWal === 'dir';
  return [
    ...createDirs(pg.walDir, existing, userOwned(config)),
    { kind: 'create-wal-gen', walDir: pg.walDir, active: p.active, owner: { uid: pg.uid, gid: pg.gid }, pgdata: path.join(p.active, pg.dir), pgDir: pg.dir, ...(move ? { move } : {}) },
  ];
}
