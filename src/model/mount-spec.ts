// One description of the crypt's mount, from which the fstab line, the systemd unit and the mount
// record are all rendered (disko's "one description, every artefact").
import type { Config } from './config.js';

export interface MountSpec {
  /** The source: `UUID=…` for a partition, the image path for a loopback image. */
  what: string;
  /** The mount point: the crypt path. */
  where: string;
  type: 'btrfs';
  /** Mount options; `loop` first for an image. */
  options: string[];
}

/** The tag that marks our fstab line, so doctor and a re-run can find it (libmount ignores x-* options). */
export const FSTAB_TAG = 'x-lychd-crypt';

/**
 * The mount of a configured crypt; null for native (the crypt is a plain directory on a Btrfs host).
 * A partition is mounted by UUID so a renumbered disk (/dev/sdb → /dev/sdc) still mounts.
 */
export const USER_SUBVOL_RM = 'user_subvol_rm_allowed';

export function mountSpecFor(config: Config): MountSpec | null {
  // A rootless crypt's owner deletes its own snapshots (after clearing ro): Btrfs allows that only with
  // user_subvol_rm_allowed on the mount.
  const extra = config.profile === 'rootless' && !config.filesystem.mountOptions.includes(USER_SUBVOL_RM) ? [USER_SUBVOL_RM] : [];
  const options = [...config.filesystem.mountOptions, ...extra];
  switch (config.method) {
    case 'native':
      return null;
    case 'loopback':
      if (!config.loopback) throw new Error('loopback config missing');
      return { what: config.loopback.image, where: config.crypt.path, type: 'btrfs', options: ['loop', ...options.filter((o) => o !== 'loop')] };
    case 'partition': {
      if (!config.partition) throw new Error('partition config missing');
      const what = config.partition.uuid ? `UUID=${config.partition.uuid}` : config.partition.device;
      return { what, where: config.crypt.path, type: 'btrfs', options: [...options] };
    }
  }
}
