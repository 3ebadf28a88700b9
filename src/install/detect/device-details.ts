// Display details of candidate devices (vendor/model, SSD or HDD, bus, removable, label) from
// systeminformation. Display only: decisions use lsblk and wipefs, and a failure here just shows less.
import si from 'systeminformation';

export interface DeviceDetails {
  name: string;
  model: string;
  physical: string;
  protocol: string;
  removable: boolean;
  label: string;
}

export type DeviceDetailsByPath = Map<string, DeviceDetails>;

export async function readDeviceDetails(): Promise<DeviceDetailsByPath> {
  try {
    const devs = await si.blockDevices();
    return new Map(
      devs.map((d) => [
        d.device || `/dev/${d.name}`,
        { name: d.name, model: d.model, physical: d.physical, protocol: d.protocol, removable: d.removable, label: d.label },
      ]),
    );
  } catch {
    return new Map();
  }
}

/** e.g. "Samsung SSD 970, 256G, SSD over nvme, removable, label data" (lsblk's part first). */
export function describeDevice(base: string, parentDisk: DeviceDetails | undefined, own: DeviceDetails | undefined): string {
  const medium = parentDisk?.physical && parentDisk.physical !== 'Unknown' ? parentDisk.physical : '';
  const bus = parentDisk?.protocol ? `over ${parentDisk.protocol}` : '';
  return [
    base || parentDisk?.model,
    [medium, bus].filter(Boolean).join(' '),
    parentDisk?.removable || own?.removable ? 'removable' : '',
    own?.label ? `label ${own.label}` : '',
  ]
    .filter(Boolean)
    .join(', ');
}
