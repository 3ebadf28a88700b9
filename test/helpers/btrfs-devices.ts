// The devices of a mounted Btrfs as the tests check them: `btrfs device usage -b` asks only the given
// filesystem. (`btrfs filesystem show MOUNTPOINT` opens every Btrfs mount of the host first and fails
// when another test unmounts one meanwhile.)
import { sh } from './host.js';

export interface TestBtrfsDevice {
  devid: number;
  /** The size Btrfs uses of the device: the block device less the slack. */
  size: number;
  path: string;
}

export function btrfsDevices(mountPoint: string): TestBtrfsDevice[] {
  const out: TestBtrfsDevice[] = [];
  for (const block of sh(['btrfs', 'device', 'usage', '-b', mountPoint]).split(/\n(?=\S)/)) {
    const head = /^(\S+), ID: (\d+)/.exec(block);
    const size = /Device size:\s+(\d+)/.exec(block);
    const slack = /Device slack:\s+(\d+)/.exec(block);
    if (head && size) out.push({ devid: Number(head[2]), size: Number(size[1]) - Number(slack?.[1] ?? 0), path: head[1]! });
  }
  return out;
}

/** Device 1 (a single-device crypt). */
export function btrfsDevice1(mountPoint: string): TestBtrfsDevice {
  const d = btrfsDevices(mountPoint).find((x) => x.devid === 1);
  if (!d) throw new Error(`btrfs device usage shows no device 1 at ${mountPoint}`);
  return d;
}
