// The typed steps of an init plan (a discriminated union by kind). The planner produces them, --dry-run
// prints them, and src/install/apply/ runs each through its handler.
import type { Config, Owner, UnitOwner } from './config.js';
import type { MountSpec } from './mount-spec.js';

/**
 * The Btrfs filesystem a step acts in, checked right before: `root` opened without following a symbolic
 * link, and it is the filesystem `uuid` at its top (inode 256) — on a native crypt (uuid null), a directory
 * on Btrfs. The step then works through that descriptor, never through the path again.
 */
export interface CryptFs {
  root: string;
  uuid: string | null;
}

/** Who a step acts as: the crypt's user, for what is theirs (their existing data). */
export interface ActAs {
  user: string;
  uid: number;
  gid: number;
}

export type Step =
  /**
   * mkdir when missing, through the descriptor of its parent (no link followed on the way; with `fs`,
   * reached through the verified filesystem); an existing directory is left as it is.
   */
  | { kind: 'create-dir'; path: string; mode: number; owner: Owner; fs?: CryptFs }
  /** An empty file, `chattr +C` on a Btrfs host (only works while empty), then truncate to size. */
  | { kind: 'create-image'; path: string; sizeBytes: number; nocow: boolean }
  /** Grow a mounted image: truncate, tell the loop device (losetup -c), then btrfs filesystem resize max. */
  | { kind: 'grow-image'; path: string; sizeBytes: number; mountPoint: string }
  /** Signatures are probed again right before; any signature without wipe is refused. */
  | { kind: 'mkfs-btrfs'; device: string; label: string; uuid: string; wipe: boolean }
  /** Written into the mount-point directory before mounting, so it is readable while unmounted. */
  | { kind: 'write-mount-record'; path: string; content: string }
  | { kind: 'mount'; spec: MountSpec }
  | { kind: 'unmount'; path: string }
  | { kind: 'remove-dir'; path: string }
  /**
   * Rename a directory holding data aside (kept as a backup) and put an empty one with the same owner and
   * mode in its place; marker: a file recording where the data went, until copy-data removes it (native).
   */
  | { kind: 'move-aside'; from: string; to: string; marker: string | null }
  /**
   * cp -a --reflink=never of the named entries, run as `as` (their data, their rights) into `to` opened
   * through the verified filesystem and handed over as a descriptor: an independent copy, the original intact.
   */
  | { kind: 'copy-data'; from: string; entries: string[]; to: string; marker: string | null; fs: CryptFs; as: ActAs }
  /** Replace our tagged line (or append it), atomically, keeping a backup of the previous file. */
  | { kind: 'write-fstab-line'; file: string; spec: MountSpec; line: string; reload: boolean }
  | { kind: 'remove-fstab-line'; file: string; where: string; reload: boolean }
  | { kind: 'write-mount-unit'; path: string; unit: string; content: string; reload: boolean }
  | { kind: 'remove-mount-unit'; path: string; unit: string; systemd: boolean }
  /**
   * systemctl daemon-reload + enable (only planned when systemd is running). With `start`, the unit also
   * mounts the crypt now (enable --now): while systemd runs it owns the mount, so init does not mount directly.
   */
  | { kind: 'enable-mount-unit'; unit: string; path: string; start?: MountSpec }
  | { kind: 'create-subvolume'; path: string; owner: Owner; fs: CryptFs }
  /** PGDATA: mkdir, chattr +C while still empty, chown to the postgres OS user, chmod 0700. */
  | { kind: 'create-pgdata'; path: string; owner: Owner; mode: number; fs: CryptFs }
  | { kind: 'write-file'; path: string; content: string; mode: number }
  /** chown/chmod an existing directory (never through a symbolic link; with `fs`, through the verified filesystem). */
  | { kind: 'own-dir'; path: string; owner: Owner; mode: number; fs?: CryptFs }
  /**
   * Record the crypt in the root-owned registry, with the identity read from what was built (fs UUID, root
   * inode, active/ UUID) through the verified filesystem `fs`.
   */
  | { kind: 'register'; dir: string; name: string; stateDir: string; config: Config; provisionalUuid?: string; fs?: CryptFs }
  /** link: the source is the Debian package's runtime; target becomes a symlink to it, not a copy. */
  | { kind: 'install-runtime'; source: string; target: string; mode: number; link?: boolean }
  /** A scheduled service or timer (src/install/plan/schedule.ts, src/install/render/schedule-units.ts): written when its content differs. */
  | { kind: 'write-unit'; path: string; unit: string; content: string; user?: UnitOwner }
  /** daemon-reload when systemd says a unit changed on disk, then enable --now (restart: a new calendar applies). */
  | { kind: 'enable-timer'; unit: string; user?: UnitOwner }
  /** A scheduled unit the answers no longer ask for: disable --now (when systemd runs), rm, daemon-reload. */
  | { kind: 'remove-unit'; path: string; unit: string; systemd: boolean; user?: UnitOwner };

export type StepKind = Step['kind'];

export interface Plan {
  version: 1;
  config: Config;
  steps: Step[];
  /** Things the user should know (no systemd, data migrated, …). */
  notes: string[];
}
