// Block devices: candidates for Method A (lsblk tree) and the facts of the device named in the answers.
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Runner } from '../../base/runner.js';
import type { BlockDeviceFacts, DeviceFacts } from './facts.js';
import { mountPointsOf } from './findmnt.js';
import { probeSignatures } from './signatures.js';
import { describeDevice, readDeviceDetails } from './device-details.js';
import { approxSize } from '../../model/units.js';

interface LsblkDevice {
  path: string;
  type: string;
  size: number;
  ro: boolean;
  mountpoints?: (string | null)[];
  fstype: string | null;
  model: string | null;
  children?: LsblkDevice[];
}

export const LSBLK_ARGV = ['lsblk', '-J', '-b', '-o', 'PATH,TYPE,SIZE,RO,MOUNTPOINTS,FSTYPE,MODEL'];

/**
 * Partitions that could take Method A: type part, not read-only, not mounted, no children (holders
 * such as LVM/dm-crypt show up as children in the tree), not swap. Returns them without signatures.
 */
export function parseCandidates(json: string): Omit<BlockDeviceFacts, 'signatures'>[] {
  const out: Omit<BlockDeviceFacts, 'signatures'>[] = [];
  const walk = (devs: LsblkDevice[], model: string | null) => {
    for (const d of devs) {
      const m = d.model?.trim() || model;
      const mounted = (d.mountpoints ?? []).some((p) => p !== null);
      if (d.type === 'part' && !d.ro && !mounted && !(d.children?.length) && d.fstype !== 'swap') {
        out.push({ path: d.path, sizeBytes: Number(d.size), description: [m, approxSize(Number(d.size))].filter(Boolean).join(', ') });
      }
      if (d.children) walk(d.children, m);
    }
  };
  walk((JSON.parse(json) as { blockdevices?: LsblkDevice[] }).blockdevices ?? [], null);
  return out;
}


export async function detectCandidates(runner: Runner): Promise<BlockDeviceFacts[]> {
  const r = await runner.run(LSBLK_ARGV, { allowFailure: true });
  if (r.exitCode !== 0) return [];
  const found = parseCandidates(r.stdout);
  const details = found.length ? await readDeviceDetails() : new Map();
  return Promise.all(
    found.map(async (d) => ({
      ...d,
      description: describeDevice(d.description, details.get(await parentDiskOf(d.path)), details.get(d.path)),
      signatures: await probeSignatures(runner, d.path).catch(() => []),
    })),
  );
}

/** /dev/sda1 -> /dev/sda, /dev/nvme0n1p2 -> /dev/nvme0n1 (from sysfs: the partition's parent directory). */
async function parentDiskOf(part: string): Promise<string> {
  try {
    const link = await realpath(`/sys/class/block/${path.basename(part)}`);
    return `/dev/${path.basename(path.dirname(link))}`;
  } catch {
    return part;
  }
}

/** Facts about the device named by partition.device (any block device, e.g. a loop device in tests). */
export async function detectDevice(runner: Runner, device: string): Promise<DeviceFacts> {
  let st;
  try {
    st = await stat(device);
  } catch {
    return { path: device, exists: false, isBlock: false, sizeBytes: 0, readOnly: false, mountPoints: [], holders: [], inUse: [], signatures: [] };
  }
  if (!st.isBlockDevice()) {
    return { path: device, exists: true, isBlock: false, sizeBytes: st.size, readOnly: false, mountPoints: [], holders: [], inUse: [], signatures: [] };
  }
  // /dev/disk/by-id/… are symlinks: sysfs knows the kernel name.
  const major = Math.floor(st.rdev / 256) & 0xfff;
  const minor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
  const sys = `/sys/dev/block/${major}:${minor}`;
  const holders = await readdir(path.join(sys, 'holders')).catch(() => [] as string[]);
  const sizeR = await runner.run(['blockdev', '--getsize64', device], { allowFailure: true });
  const roR = await runner.run(['blockdev', '--getro', device], { allowFailure: true });
  return {
    path: device,
    exists: true,
    isBlock: true,
    sizeBytes: Number(sizeR.stdout.trim()) || 0,
    readOnly: roR.stdout.trim() === '1',
    mountPoints: await mountPointsOf(runner, device),
    holders,
    inUse: await usesBelow(runner, device),
    signatures: await probeSignatures(runner, device),
  };
}

/** Active swap devices, by kernel name (/proc/swaps). */
async function activeSwaps(): Promise<Set<string>> {
  const text = await readFile('/proc/swaps', 'utf8').catch(() => '');
  return new Set(text.split('\n').slice(1).map((l) => l.split(/\s+/)[0]!).filter(Boolean));
}

/**
 * What uses the device or anything inside it: a mounted partition of a whole disk, an active swap, a
 * holder of a partition. Formatting it would destroy a live filesystem (mkfs only notices some of it).
 */
async function usesBelow(runner: Runner, device: string): Promise<string[]> {
  const r = await runner.run(['lsblk', '-J', '-p', '-o', 'NAME,TYPE,MOUNTPOINTS', device], { allowFailure: true });
  if (r.exitCode !== 0) return [];
  const swaps = await activeSwaps();
  const uses: string[] = [];
  type Node = { name: string; type?: string; mountpoints?: (string | null)[]; children?: Node[] };
  const walk = (n: Node, top: boolean): void => {
    for (const m of (n.mountpoints ?? []).filter((x): x is string => !!x)) {
      if (m === '[SWAP]') uses.push(`${n.name} is active swap`);
      else if (!top) uses.push(`${n.name} is mounted at ${m}`);
    }
    if (swaps.has(n.name) && !(n.mountpoints ?? []).includes('[SWAP]')) uses.push(`${n.name} is active swap`);
    if (!top && n.type !== 'part' && n.type !== 'loop') uses.push(`${n.name} (${n.type}) is built on it`);
    for (const c of n.children ?? []) walk(c, false);
  };
  for (const d of (JSON.parse(r.stdout) as { blockdevices?: Node[] }).blockdevices ?? []) walk(d, true);
  return [...new Set(uses)];
}
