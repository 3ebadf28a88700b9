// The step vocabulary: what init's plan and repair's plan are made of (a discriminated union by kind).
// init's planner and doctor's checks produce them; each kind has one module (install/steps/<kind>.ts, or
// care/steps/<kind>.ts for repair's own) that describes, probes and applies it. The kinds both use have
// one shape: repair fills in what init's planner would (the fstab line, whether to reload systemd).
import type { Config, Owner, PostgresConfig, UnitOwner } from './config.js';
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

/** Kinds init and repair both take. */
export type SharedStep =
  /**
   * mkdir when missing, through the descriptor of its parent (no link followed on the way; with `fs`,
   * reached through the verified filesystem); an existing directory is left as it is.
   */
  | { kind: 'create-dir'; path: string; mode: number; owner: Owner; fs?: CryptFs }
  /** Written into the mount-point directory before mounting, so it is readable while unmounted. */
  | { kind: 'write-mount-record'; path: string; content: string }
  /**
   * Mount the crypt. unit (repair): systemd runs and the mount is persisted by that unit, so the unit mounts
   * it (systemd then knows the mount as its own).
   */
  | { kind: 'mount'; spec: MountSpec; unit?: string }
  /** Replace our tagged line (or append it), atomically, keeping a backup of the previous file. */
  | { kind: 'write-fstab-line'; file: string; spec: MountSpec; line: string; reload: boolean }
  | { kind: 'remove-fstab-line'; file: string; where: string; reload: boolean }
  /** backup (repair): a differing unit is kept as <path>.lychd-crypt.bak first. */
  | { kind: 'write-mount-unit'; path: string; unit: string; content: string; reload: boolean; backup?: boolean }
  | { kind: 'remove-mount-unit'; path: string; unit: string; systemd: boolean; backup?: boolean }
  /**
   * systemctl daemon-reload + enable (only planned when systemd is running). With `start`, the unit also
   * mounts the crypt now (enable --now): while systemd runs it owns the mount, so init does not mount directly.
   */
  | { kind: 'enable-mount-unit'; unit: string; path: string; start?: MountSpec }
  /**
   * PGDATA: mkdir, chattr +C while still empty, chown to the postgres OS user, chmod 0700; an existing one
   * is corrected. Through the verified filesystem `fs` (init), or the crypt as opened for the command (repair).
   */
  | {
      kind: 'create-pgdata';
      path: string;
      owner: Owner;
      mode: number;
      fs?: CryptFs;
      /**
       * PostgreSQL in the owner's container: the ids its postgres has on the host. PGDATA is made empty for the
       * container's first start, which gives it to them (`:U`); once theirs, its owner and mode stay as they are.
       */
      taken?: Owner;
    }
  /**
   * The runtime command: a copy of the runtime directory, or (link: the Debian package's runtime) a symlink
   * to it. source null: no runtime bundle was found to install (apply says so).
   */
  | { kind: 'install-runtime'; source: string | null; target: string; mode: number; link?: boolean };

export type InitStep =
  | SharedStep
  /**
   * The outside WAL (postgres.walDir): the generation of active/ (`<walDir>/gen-<UUID of active/>`, read when
   * applied), made 0700 for the server's user; a cluster made later takes it with `initdb --waldir`.
   */
  | { kind: 'create-wal-gen'; walDir: string; active: string; owner: Owner; pgdata: string; pgDir: string; move?: boolean }
  /** An empty file, `chattr +C` on a Btrfs host (only works while empty), then truncate to size (preallocate: fallocate, every block allocated). */
  | { kind: 'create-image'; path: string; sizeBytes: number; nocow: boolean; preallocate?: boolean }
  /** Grow a mounted image: truncate, tell the loop device (losetup -c), then btrfs filesystem resize max. */
  | { kind: 'grow-image'; path: string; sizeBytes: number; mountPoint: string; preallocate?: boolean }
  /** Signatures are probed again right before; any signature without wipe is refused. */
  | { kind: 'mkfs-btrfs'; device: string; label: string; uuid: string; wipe: boolean }
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
  | { kind: 'create-subvolume'; path: string; owner: Owner; fs: CryptFs }
  | { kind: 'write-file'; path: string; content: string; mode: number }
  /** chown/chmod an existing directory (never through a symbolic link; with `fs`, through the verified filesystem). */
  | { kind: 'own-dir'; path: string; owner: Owner; mode: number; fs?: CryptFs }
  /**
   * Record the crypt in the root-owned registry, with the identity read from what was built (fs UUID, root
   * inode, active/ UUID) through the verified filesystem `fs`.
   */
  | { kind: 'register'; dir: string; name: string; stateDir: string; config: Config; provisionalUuid?: string; fs?: CryptFs }
  /** A scheduled service or timer (src/install/plan/schedule.ts): written when its content differs. */
  | { kind: 'write-unit'; path: string; unit: string; content: string; user?: UnitOwner }
  /** daemon-reload when systemd says a unit changed on disk, then enable --now (restart: a new calendar applies). */
  | { kind: 'enable-timer'; unit: string; user?: UnitOwner }
  /** A scheduled unit the answers no longer ask for: disable --now (when systemd runs), rm, daemon-reload. */
  | { kind: 'remove-unit'; path: string; unit: string; systemd: boolean; user?: UnitOwner }
  /** replicate: an ssh target's key in the registry (ssh-keygen, ed25519, no passphrase: root's service uses it); a found key is kept. */
  | { kind: 'replicate-key'; path: string; comment: string }
  /** `init --receiver`: the directory of one crypt's copies on a target — a Btrfs subvolume, root's, 0700. */
  | { kind: 'receiver-dir'; path: string }
  /** `init --receiver`: root's authorized_keys gets the forced-command line for this key (same key data: replaced). */
  | { kind: 'authorized-key'; file: string; line: string; blob: string };

export type RepairStep =
  | SharedStep
  /** The same filesystem is stacked on the mount point twice: unmount the top copy. */
  | { kind: 'unmount-stacked'; where: string }
  /**
   * The crypt is read-only (forced by Btrfs after a write error, or mounted so), or mounted under a
   * temporary fsid (`fsUuid`: the registered UUID it must carry again): stop the database, unmount, mount
   * again from the spec, start the database again if it was running or had crashed.
   */
  | {
      kind: 'remount-crypt';
      spec: MountSpec;
      forced: boolean;
      fsUuid?: string;
      postgres: PostgresConfig | null;
      pgdata: string | null;
      crypt: { user: string; logDir: string } | null;
    }
  /** chown (and chmod) a path; recursive: every entry below it too (PGDATA must be the server's). */
  | { kind: 'set-owner'; path: string; owner: Owner; mode: number | null; recursive: boolean }
  | { kind: 'delete-subvolume'; path: string; why: string }
  /** A directory tree left by an interrupted repair (never user data: only our own staging names). */
  | { kind: 'remove-tree'; path: string; why: string }
  | { kind: 'remove-file'; path: string; why: string }
  /** Copy PGDATA into a fresh +C directory, verify, swap atomically (journal op nocow-rewrite). */
  | { kind: 'nocow-rewrite'; pgdata: string; files: number }
  /** Rename a state file nothing can act on (an unusable journal, invalid metadata) to `<path>.invalid-<time>`: kept, not used. */
  | { kind: 'set-aside'; path: string; why: string }
  /** Finish or undo the operation in the journal (the recovery table, handed down by the command). */
  | { kind: 'recover-interrupted'; op: string; id: string; phase: string }
  /** A complete read-only snapshot lost its metadata file: rebuild it from the subvolume and pg_controldata. */
  | { kind: 'rebuild-metadata'; path: string; name: string }
  /** snapshots/ is missing and a directory beside active/ holds the snapshots (moved by hand): move it back. */
  | { kind: 'move-snapshots-back'; from: string; to: string; count: number };

/**
 * A change of a mounted crypt's size (resize): host steps root takes while PostgreSQL runs. Each is
 * idempotent (it compares what is there with its target), so finishing an interrupted resize is running
 * the same steps again.
 */
export type CapacityStep =
  /**
   * Set the image file's size: truncate(1), or fallocate(1) when the image is preallocated (growing). Never
   * below what the filesystem on it (devid on mountPoint) still uses of it: that is shrunk first.
   */
  | { kind: 'resize-image'; path: string; sizeBytes: number; preallocate: boolean; mountPoint: string; devid: number }
  /** losetup --set-capacity: the loop device takes its file's size (only after the file changed). */
  | { kind: 'refresh-loop'; device: string; path: string; sizeBytes: number }
  /** btrfs filesystem resize DEVID:SIZE (max: all of the device, whose size is sizeBytes). */
  | { kind: 'resize-btrfs'; mountPoint: string; devid: number; sizeBytes: number; max: boolean }
  /**
   * btrfs replace start DEVID TO MNT, online, waited for (progress shown): one copy onto `to`, the
   * filesystem UUID kept. force (-f): `to` holds a signature the user consented to wipe.
   */
  | { kind: 'replace-device'; mountPoint: string; devid: number; from: string; to: string; force: boolean }
  /** losetup -d: the loop device of the image, once Btrfs no longer uses it (an autoclear one is gone already). */
  | { kind: 'detach-loop'; device: string; path: string }
  /** migrate switches the persisted mount (and the mount record under the mount point) to the partition: init's kinds. */
  | Extract<SharedStep, { kind: 'write-fstab-line' | 'write-mount-unit' | 'write-mount-record' }>;

/**
 * deinit's steps: undo init for one crypt (SPEC section 11). It shares init's kinds that remove what init
 * made (units and timers, the mount, the fstab line or unit) and repair's remove-file; its own kinds stop the
 * database, delete the data (only with --delete-data), remove the state directory and unregister the crypt.
 */
export type DeinitStep =
  | Extract<InitStep, { kind: 'remove-unit' | 'unmount' | 'remove-fstab-line' | 'remove-mount-unit' }>
  | Extract<RepairStep, { kind: 'remove-file' }>
  /** The database runs from the crypt: stopped through postgres.service (it holds the filesystem busy). */
  | { kind: 'stop-database'; pgdata: string; postgres: PostgresConfig; crypt: { user: string; logDir: string } }
  /**
   * --delete-data: the image file removed; the Btrfs signature of a partition wiped (only when it is still
   * this crypt's filesystem, `fsUuid`); on a native crypt its subvolumes and directory deleted.
   */
  | { kind: 'delete-data'; method: 'loopback'; image: string }
  | { kind: 'delete-data'; method: 'partition'; device: string; fsUuid: string }
  | { kind: 'delete-data'; method: 'native'; root: string; fsUuid: string; rootIno: number }
  /** The crypt's state directory (journal, lock, pg_ctl's log); a rootless crypt's is removed as its owner. */
  | { kind: 'remove-state'; path: string; owner: UnitOwner | null }
  /**
   * The registry entry removed: the crypt is no longer known (and its deinit mark goes with it). release:
   * root's state directory, where the entry is kept as released (its data stays, init may adopt it again);
   * null when the data was deleted.
   */
  | { kind: 'unregister'; dir: string; name: string; release: string | null };

export type Step = InitStep | RepairStep | DeinitStep | CapacityStep;

export type StepKind = Step['kind'];
export type InitKind = InitStep['kind'];
export type RepairKind = RepairStep['kind'];
export type CapacityKind = CapacityStep['kind'];
export type DeinitKind = DeinitStep['kind'];

export interface Plan {
  version: 1;
  config: Config;
  /** The crypt's registered definition the plan converges from; null or absent for a new crypt. */
  registered?: Config | null;
  /** registered is the entry of a crypt deinit released with its data: the plan registers it again. */
  released?: boolean;
  steps: InitStep[];
  /** Things the user should know (no systemd, data migrated, …). */
  notes: string[];
}
