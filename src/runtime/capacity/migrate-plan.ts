// The migration plan (Method B → A), pure: the consent rules of init for the device (in use: refused; data
// on it: only with wipe), then btrfs replace of the loop device by the device, Btrfs grown to all of it,
// the persisted mount switched to the partition by its (unchanged) filesystem UUID, the loop device
// detached. The new configuration is what the registry records once the steps are done.
import { RefusedError, UsageError } from '../../base/errors.js';
import type { Config } from '../../model/config.js';
import type { CapacityStep } from '../../model/steps.js';
import { mountSpecFor } from '../../model/mount-spec.js';
import { formatSize, humanSize } from '../../model/units.js';
import type { DeviceFacts } from '../../install/detect/facts.js';
import { describeSignatures } from '../../install/detect/signatures.js';
import { renderFstabLine, renderMountUnit, unitNameForPath } from '../../install/render/index.js';
import { mountRecordFor, renderMountRecord } from '../../install/render/mount-record.js';
import { cryptLayout } from '../../base/crypt/paths.js';
import path from 'node:path';

export interface MigrateFacts {
  mountPoint: string;
  /** Btrfs's devid of the crypt's one device, its size there, and what the filesystem uses. */
  devid: number;
  fsSize: number;
  /** The loop device and image the crypt is on (from the journal when finishing). */
  loopDevice: string;
  image: string;
  /** The target device (its canonical path), as detected. */
  device: DeviceFacts;
  systemdRunning: boolean;
}

export interface MigratePlan {
  steps: CapacityStep[];
  config: Config;
  notes: string[];
}

/** Btrfs sizes its device in 4 KiB sectors: `resize max` takes the device's size rounded down to one. */
const sectors = (n: number) => Math.floor(n / 4096) * 4096;

function checkDevice(f: MigrateFacts, wipe: boolean): void {
  const d = f.device;
  if (!d.exists) throw new UsageError(`--to-device: ${d.path} does not exist`, { hint: 'Name an existing block device (lsblk lists them).' });
  if (!d.isBlock) throw new UsageError(`--to-device: ${d.path} is not a block device`);
  if (d.readOnly) throw new UsageError(`--to-device: ${d.path} is read-only`);
  if (d.mountPoints.length) throw new RefusedError(`${d.path} is mounted at ${d.mountPoints.join(', ')}; nothing was changed`, { hint: 'Unmount it first, or choose another device.' });
  if (d.inUse.length) throw new RefusedError(`${d.path} is in use: ${d.inUse.join('; ')}; nothing was changed`, { hint: 'Unmount it (swapoff a swap device) or choose another device.' });
  if (d.holders.length) throw new RefusedError(`${d.path} is in use by ${d.holders.join(', ')} (LVM, RAID or dm-crypt); nothing was changed`, { hint: 'Choose a device nothing else uses.' });
  if (d.path === f.loopDevice) throw new UsageError(`--to-device: ${d.path} is the crypt's own loop device`);
  if (d.signatures.length && !wipe) {
    throw new RefusedError(`${d.path} holds data (${describeSignatures(d.signatures)}); nothing was changed`, {
      hint: 'To overwrite it and lose that data, add --wipe (as partition.wipe: true in init\'s answers).',
    });
  }
  if (d.sizeBytes < f.fsSize) {
    throw new RefusedError(`${d.path} is ${humanSize(d.sizeBytes)}, smaller than the crypt's ${humanSize(f.fsSize)}: btrfs replace needs a device at least as large; nothing was changed`, {
      hint: `Shrink the crypt first (\`lychd-crypt resize --size ${formatSize(Math.floor(d.sizeBytes / 2 ** 20) * 2 ** 20)}\`), or choose a larger device.`,
    });
  }
}

/** The crypt's configuration once on the partition: mounted by the filesystem UUID it keeps. */
export function migratedConfig(config: Config, device: string, wipe: boolean, fsUuid: string): Config {
  return { ...config, method: 'partition', loopback: null, partition: { device, wipe, uuid: fsUuid } };
}

export function planMigrate(config: Config, fsUuid: string, f: MigrateFacts, opts: { wipe: boolean; finishing?: boolean }): MigratePlan {
  if (config.method !== 'loopback' && !opts.finishing) {
    throw new UsageError(`the crypt "${config.crypt.name}" is not on a loopback image (method ${config.method}): there is nothing to migrate`, {
      hint: config.method === 'partition' ? 'It is on its partition already; `lychd-crypt resize` grows it to an enlarged one.' : undefined,
    });
  }
  if (!opts.finishing) checkDevice(f, opts.wipe);
  const next = migratedConfig(config, f.device.path, opts.wipe, fsUuid);
  const spec = mountSpecFor(next)!;
  const steps: CapacityStep[] = [
    { kind: 'replace-device', mountPoint: f.mountPoint, devid: f.devid, from: f.loopDevice, to: f.device.path, force: opts.wipe },
    { kind: 'resize-btrfs', mountPoint: f.mountPoint, devid: f.devid, sizeBytes: sectors(f.device.sizeBytes), max: true },
  ];
  const { via, fstab, unitDir } = config.persist;
  const unit = unitNameForPath(spec.where);
  if (via === 'fstab') steps.push({ kind: 'write-fstab-line', file: fstab, spec, line: renderFstabLine(spec), reload: f.systemdRunning });
  if (via === 'systemd') steps.push({ kind: 'write-mount-unit', path: path.join(unitDir, unit), unit, content: renderMountUnit(spec), reload: f.systemdRunning });
  // The record under the mount point (what repair mounts from when the registry cannot be read) names the partition too.
  steps.push({ kind: 'write-mount-record', path: cryptLayout(spec.where).mountRecord, content: renderMountRecord(mountRecordFor(next)!) });
  steps.push({ kind: 'detach-loop', device: f.loopDevice, path: f.image });
  const notes = [`the image ${f.image} is kept until doctor finds the crypt healthy on ${f.device.path}`];
  if (via === 'none') notes.push('persist.via is none: nothing persisted to switch; the mount record says how to mount it');
  return { steps, config: next, notes };
}
