// Plain typed facts about the host, gathered by src/detect/ and consumed by the (pure) planner and the UI.
// Nothing outside src/detect/ reads the host to make installation decisions.

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
  signatures: { type: string; label: string | null }[];
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
  /** Filesystem holding existingAncestor. */
  hostFs: MountFacts;
  freeBytes: number;
  /** cryptPath is itself a mount point: of what. */
  cryptMount: MountFacts | null;
  /** cryptPath exists and holds entries (besides lost+found / our mount record). */
  cryptHasData: boolean;
  /** The crypt is already initialised: its stored configuration, if readable. */
  existingConfig: unknown | null;
  /** Partitions that could take Method A (unmounted, no holders, not swap, not read-only). */
  candidateDevices: BlockDeviceFacts[];
  /** Filesystem and free space of the image's directory, when a loopback image is in the answers. */
  imageHost: { path: string; fstype: string; freeBytes: number; exists: boolean } | null;
}
