// The resolved configuration of one crypt: answers with every default filled in and every id
// resolved. init stores it on the crypt's own filesystem; every runtime command reads it.
import type { RetentionConfig, ScheduleConfig, SpaceConfig } from './settings.js';
import type { ReplicateConfig } from './replicate.js';

export interface Owner {
  uid: number;
  gid: number;
}

/** Whose service manager runs a unit: root's, or (a rootless crypt) its owner's user manager. */
export interface UnitOwner {
  name: string;
  uid: number;
  gid: number;
}

/** The stored `hooks:` (argv lists run around each snapshot and rollback); the schema is init's (install/answers/hooks.ts). */
export type HookPhase = 'preSnapshot' | 'postSnapshot' | 'preRollback' | 'postRollback';

export interface HooksConfig {
  preSnapshot: string[][];
  postSnapshot: string[][];
  preRollback: string[][];
  postRollback: string[][];
  timeout: number;
}

export type Method = 'native' | 'partition' | 'loopback';
/**
 * system: PostgreSQL is a system service; the runtime needs root. rootless: LychD's own (PostgreSQL in
 * the owner's user unit or run by the owner); the owner runs the runtime, root drops to the owner first.
 */
export type Profile = 'system' | 'rootless';
export type PersistVia = 'systemd' | 'fstab' | 'none';

/** container: the owner's `podman stop/start` of postgres.container (ready when the server answers). */
export type ServiceConfig =
  | { kind: 'pg_ctl' }
  | { kind: 'systemd'; unit: string; user: boolean }
  | { kind: 'command'; stop: string[]; start: string[] }
  | { kind: 'container' }
  | { kind: 'none' };

/**
 * PostgreSQL in the owner's rootless container (LychD's deployment): its name is all the answers say; the
 * image, the mounts and the id mapping are read from podman when needed (base/container/podman.ts).
 */
export interface ContainerConfig {
  engine: 'podman';
  name: string;
}

/**
 * Where the connection's password comes from besides PGPASSWORD and the caller's ~/.pgpass: a file of the
 * caller's (0600, like ~/.pgpass) or the Podman secret of that name. Never the password itself.
 */
export interface PasswordSource {
  passwordFile?: string;
  passwordSecret?: string;
}

export interface PostgresConfig {
  /** PGDATA relative to active/. */
  dir: string;
  /** The server's OS user; in a container its user there (999), with uid/gid the ids it has on the host. */
  osUser: string;
  uid: number;
  gid: number;
  connection: { host: string; port: number; user: string; database: string } & PasswordSource;
  /** Directory holding pg_ctl & co.; null: PATH, then the newest /usr/lib/postgresql/<v>/bin. */
  bin: string | null;
  service: ServiceConfig;
  /** Absent or null: PostgreSQL runs on the host. */
  container?: ContainerConfig | null;
  /**
   * The root of the outside WAL generations (docs/wal.md): pg_wal is a link to `<walDir>/gen-<UUID of active/>`
   * on the host's own filesystem. Absent or null: pg_wal is a real directory inside PGDATA (the default).
   */
  walDir?: string | null;
}

export interface Config {
  version: 1;
  /** name: the crypt's key in the registry (and --crypt NAME). */
  crypt: { name: string; path: string; user: string; uid: number; gid: number; home: string };
  profile: Profile;
  /** Where init registered it: the registry directory and root's state directory (SPEC section 8). */
  registry: { dir: string; state: string };
  method: Method;
  /** preallocate: the image's blocks are allocated (fallocate), so a full host cannot force the crypt read-only; absent: sparse (crypts made before it). */
  loopback: { image: string; sizeBytes: number; preallocate?: boolean } | null;
  /** uuid: the filesystem UUID init gave it (mkfs.btrfs -U), so it is mounted and persisted by UUID=. */
  partition: { device: string; wipe: boolean; uuid?: string } | null;
  filesystem: { label: string; mountOptions: string[] };
  persist: { via: PersistVia; fstab: string; unitDir: string };
  install: { binDir: string };
  /** null: no database configured (snapshots use mode `none`). */
  postgres: PostgresConfig | null;
  /** Set and forget; optional: absent in configurations written before them (read as null). */
  retention?: RetentionConfig | null;
  space?: SpaceConfig | null;
  schedule?: ScheduleConfig | null;
  /** Commands around each snapshot and rollback (src/runtime/run/hooks.ts, wrapped by src/cli/frame/hooks.ts); absent: none. */
  hooks?: HooksConfig | null;
  /** Off-host copies (model/replicate.ts); absent: none. */
  replicate?: ReplicateConfig | null;
}

