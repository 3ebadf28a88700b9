// Plain typed facts about the host, gathered by src/install/detect/ and consumed by the (pure) planner and the UI.
// Nothing outside src/install/detect/ reads the host to make installation decisions.
import type { WalPlacementFacts } from '../../base/wal/placement.js';
import type { Config } from '../../model/config.js';
import type { MountRecord } from '../render/mount-record.js';
import type { RegistryEntry } from '../../base/registry/store.js';
import type { ContainerDetect, PgdataOwnerFacts } from './container.js';

export interface MountFacts {
  /** The mount point that holds the path (findmnt --target). */
  target: string;
  source: string;
  fstype: string;
  options: string[];
  /** For loop sources: the backing file. */
  backingFile: string | null;
}

export interface BlockDeviceFacts {
  path: string;
  /** e.g. "Samsung SSD 970, 256G" — for display only. */
  description: string;
  sizeBytes: number;
  /** What it holds (wipefs -n -J / blkid -p): e.g. [{ type: 'ext4', label: 'precious' }]. */
  signatures: SignatureFacts[];
}

export interface SignatureFacts {
  type: string;
  label: string | null;
  uuid?: string | null;
}

/** The device named by partition.device in the answers. */
export interface DeviceFacts {
  path: string;
  exists: boolean;
  isBlock: boolean;
  sizeBytes: number;
  readOnly: boolean;
  /** Where it is mounted now. */
  mountPoints: string[];
  /** Kernel holders (LVM, dm-crypt, md): a device in use. */
  holders: string[];
  /** Mounted partitions, active swap, devices built on it (lsblk, /proc/swaps). */
  inUse: string[];
  signatures: SignatureFacts[];
}

/** The loopback image file named (or defaulted) in the answers. */
export interface ImageFacts {
  path: string;
  exists: boolean;
  sizeBytes: number;
  /** Bytes actually allocated: 0 for a sparse file nobody wrote to. */
  allocatedBytes: number;
  signatures: SignatureFacts[];
  /** Loop devices currently attached to it. */
  loopDevices: string[];
}

export interface UserFacts {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface HostFacts {
  isRoot: boolean;
  systemdRunning: boolean;
  btrfsInKernel: boolean;
  tools: Record<'btrfs' | 'mkfs.btrfs' | 'chattr' | 'losetup' | 'wipefs' | 'systemd-analyze', boolean>;
  user: UserFacts;
  /** The crypt path asked for, absolute. */
  cryptPath: string;
  /** The nearest existing directory at or above cryptPath. */
  existingAncestor: string;
  /**
   * The host filesystem of the crypt path: the one holding existingAncestor, or — when cryptPath is
   * itself a mount point (a re-run) — the one holding its parent directory.
   */
  hostFs: MountFacts;
  freeBytes: number;
  /** cryptPath is itself a mount point: of what. */
  cryptMount: MountFacts | null;
  /** cryptPath exists and holds entries (besides lost+found / our mount record). */
  cryptHasData: boolean;
  /** The crypt is already initialised: its stored configuration, if readable. */
  existingConfig: Config | null;
  /** existingConfig is the last entry of a crypt deinit released with its data (not registered now): init adopts it again. */
  released?: boolean;
  /** Partitions that could take Method A (unmounted, no holders, not swap, not read-only). */
  candidateDevices: BlockDeviceFacts[];
  /** Filesystem and free space of the image's directory, when a loopback image is in the answers. */
  imageHost: { path: string; fstype: string; freeBytes: number; exists: boolean } | null;
  /** The loopback image (answers' or default path). */
  image: ImageFacts | null;
  /** The partition.device of the answers. */
  device: DeviceFacts | null;
  /** Names in cryptPath (without lost+found and our mount record); [] when it does not exist. */
  cryptEntries: string[];
  /** The postgres OS user (answers' osUser or "postgres"); null when it does not exist (or PostgreSQL runs in a container). */
  postgresUser: UserFacts | null;
  /** The crypt user's Podman containers and subordinate ids; null when podman is not installed (or the user is root). */
  podman?: ContainerDetect | null;
  /** The PGDATA init would use, as it is now (owner, content); null when it does not exist. */
  pgdataNow?: PgdataOwnerFacts | null;
  /** Where postgres.walDir would be (base/wal/placement.ts); absent without walDir. */
  walPlacement?: WalPlacementFacts | null;
  /** With walDir: what active/'s pg_wal is now (an existing cluster's real directory is moved out) and whether its server runs. */
  walNow?: { pgWal: 'dir' | 'link' | 'missing'; running: boolean } | null;
  /** Lines of persist.fstab that mount cryptPath (with their tag), and whether our unit file exists. */
  /** Our scheduled units (snapshot/verify service and timer) for this crypt present in persist.unitDir. */
  scheduleUnits?: string[];
  /** The same in the crypt user's own unit directory (~/.config/systemd/user): a rootless crypt's user timer. */
  userScheduleUnits?: string[];
  persisted: {
    fstabLines: { line: number; what: string; tagged: boolean }[];
    unitFile: string;
    unitExists: boolean;
  };
  /** Disk usage of the data at cryptPath that would be migrated (du), 0 when there is none. */
  cryptDataBytes: number;
  /** The mount record underneath an unmounted crypt path (what an earlier init made), if readable. */
  mountRecord: MountRecord | null;
  /** The registry: where it is, every crypt in it, and the name this crypt has (or will get) there. */
  registry: { dir: string; entries: RegistryEntry[]; name: string; state: string };
  /** Whether the directories init makes the registry and the state directory in exist (it creates none above them). */
  registryParents?: { dir: boolean; state: boolean };
  /** Home directories of every other account. */
  otherHomes: string[];
  /** A native migration that was interrupted after the original moved aside: finish the copy from there. */
  pendingMigration: { from: string; entries: string[] } | null;
  /** The runtime init installs (its entry: the packaged or running single executable, or the Node-run lychd-crypt.js); null when not built. */
  runtimeSource: string | null;
  /** Detection time (ISO, UTC): names the backup of migrated data. */
  now: string;
  /** A fresh UUID for a new filesystem (mkfs.btrfs -U), so the plan can show the exact fstab line. */
  newUuid: string;
}
