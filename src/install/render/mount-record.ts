// The mount record: a small JSON file in the mount-point directory *underneath* the mount, so that
// doctor/repair can mount the crypt again from the crypt path alone while it is not mounted.
import path from 'node:path';
import type { Config, Method, PersistVia } from '../../model/config.js';
import { mountSpecFor, type MountSpec } from '../../model/mount-spec.js';
import { unitNameForPath } from './unit-name.js';

export interface MountRecord {
  version: 1;
  method: Exclude<Method, 'native'>;
  /** What to mount, where and how (the same description the fstab line / unit came from). */
  mount: MountSpec;
  /** Method A: the device path as given (the spec mounts it by UUID). */
  device: string | null;
  /** Method B: the image file. */
  image: string | null;
  label: string;
  /** Where the mount was persisted: the fstab file or the unit file; null when via is none. */
  persist: { via: PersistVia; file: string | null; unit: string | null };
}

/** null for native: nothing is mounted, so there is nothing to record. */
export function mountRecordFor(config: Config): MountRecord | null {
  const spec = mountSpecFor(config);
  if (!spec || config.method === 'native') return null;
  const via = config.persist.via;
  const unit = unitNameForPath(spec.where);
  return {
    version: 1,
    method: config.method,
    mount: spec,
    device: config.partition?.device ?? null,
    image: config.loopback?.image ?? null,
    label: config.filesystem.label,
    persist: {
      via,
      file: via === 'fstab' ? config.persist.fstab : via === 'systemd' ? path.join(config.persist.unitDir, unit) : null,
      unit: via === 'systemd' ? unit : null,
    },
  };
}

export function renderMountRecord(record: MountRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}
