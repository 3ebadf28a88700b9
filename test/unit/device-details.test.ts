// The display line of a Method A candidate: lsblk's model and size, then systeminformation's details.
import { describe, expect, it } from 'vitest';
import { describeDevice, type DeviceDetails } from '../../src/install/detect/device-details.js';

const disk = (over: Partial<DeviceDetails> = {}): DeviceDetails => ({
  name: 'nvme0n1', model: 'Samsung SSD 970', physical: 'SSD', protocol: 'nvme', removable: false, label: '', ...over,
});

describe('describeDevice', () => {
  it('adds medium, bus, removable and label to the lsblk part', () => {
    expect(describeDevice('Samsung SSD 970, 256G', disk(), disk({ name: 'nvme0n1p3', label: 'data' }))).toBe(
      'Samsung SSD 970, 256G, SSD over nvme, label data',
    );
    expect(describeDevice('16G', disk({ model: '', physical: 'Unknown', protocol: 'usb', removable: true }), undefined)).toBe(
      '16G, over usb, removable',
    );
  });
  it('without systeminformation details keeps the lsblk part', () => {
    expect(describeDevice('256G', undefined, undefined)).toBe('256G');
  });
});
