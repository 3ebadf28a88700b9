// Which Btrfs filesystem is mounted at a crypt path, beyond its fsid. Since Linux 6.7 a byte copy of a
// mounted single-device filesystem (a cloned image, a replayed backup) mounts under a *temporary* fsid:
// the kernel gives the second mount a random fsid and keeps the copy's own UUID as its metadata UUID
// (/sys/fs/btrfs/<fsid>/temp_fsid = 1). So the UUID alone cannot tell the crypt from its copy: the mount's
// source (the registered image or device) decides which one is the crypt. Everything here reads
// /proc/self/mountinfo and sysfs, which anyone may read: doctor, status (also a monitoring user) and
// openCrypt ask it.
import { readdir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../model/config.js';
import { loopBackingFile } from '../sys/loop.js';
import { readMountinfo, type MountinfoEntry } from '../sys/mountinfo.js';

const SYSFS = '/sys/fs/btrfs';

/** A Btrfs filesystem as the kernel knows it: its fsid, its metadata UUID, whether the fsid is temporary, its devices. */
export interface KernelFs {
  fsid: string;
  metadataUuid: string;
  tempFsid: boolean;
  /** Kernel device names (`loop3`). */
  devices: string[];
}

const readLine = (p: string): Promise<string | null> => readFile(p, 'utf8').then((t) => t.trim(), () => null);

/** The filesystem the kernel knows by `fsid`, or null when it knows none (not mounted, or released). */
export async function kernelFs(fsid: string): Promise<KernelFs | null> {
  const dir = path.join(SYSFS, fsid);
  const devices = await readdir(path.join(dir, 'devices')).catch(() => null);
  if (!devices) return null;
  return {
    fsid,
    // Before Linux 5.0 there is no metadata_uuid file: then the fsid is the UUID.
    metadataUuid: (await readLine(path.join(dir, 'metadata_uuid'))) ?? fsid,
    // Before Linux 6.7 there is no temp_fsid file: then no fsid is temporary.
    tempFsid: (await readLine(path.join(dir, 'temp_fsid'))) === '1',
    devices,
  };
}

/** The filesystem a device (`/dev/loop3`) belongs to, found by its entry under /sys/fs/btrfs/<fsid>/devices. */
export async function kernelFsOfDevice(device: string): Promise<KernelFs | null> {
  const name = path.basename(await realpath(device).catch(() => device));
  for (const fsid of await readdir(SYSFS).catch(() => [] as string[])) {
    const fs = /^[0-9a-f-]{36}$/.test(fsid) ? await kernelFs(fsid) : null;
    if (fs?.devices.includes(name)) return fs;
  }
  return null;
}

/** A device of a filesystem: its path, the file behind it (a loop device) and where it is mounted here. */
export interface DeviceUse {
  device: string;
  backingFile: string | null;
  /** Mount points of the filesystem's top level in this mount namespace ([]: mounted in another one, or being released). */
  mountedAt: string[];
}

async function deviceUse(name: string, mounts: MountinfoEntry[]): Promise<DeviceUse> {
  const device = `/dev/${name}`;
  return { device, backingFile: await loopBackingFile(device), mountedAt: mounts.filter((m) => m.source === device && m.fsroot === '/').map((m) => m.point) };
}

/** The topmost mount exactly at `point` (a real path), from mountinfo. */
export function mountAtPoint(mounts: MountinfoEntry[], point: string): MountinfoEntry | null {
  return [...mounts].reverse().find((m) => m.point === point) ?? null;
}

/** The fsid of the filesystem mounted at `point` (from its device in sysfs), or null. */
export async function fsidAt(point: string): Promise<string | null> {
  const m = mountAtPoint(await readMountinfo(), (await realpath(point).catch(() => null)) ?? point);
  return m ? ((await kernelFsOfDevice(m.source))?.fsid ?? null) : null;
}

/** Where the crypt's filesystem must come from: the registered image (a loop device's backing file) or device. */
export async function isRegisteredSource(config: Pick<Config, 'method' | 'loopback' | 'partition'>, source: string): Promise<boolean> {
  const real = (p: string) => realpath(p).catch(() => p);
  if (config.method === 'loopback' && config.loopback) {
    const backing = await loopBackingFile(source);
    return backing !== null && (backing === config.loopback.image || backing === (await real(config.loopback.image)));
  }
  if (config.method === 'partition' && config.partition) return (await real(source)) === (await real(config.partition.device));
  return false;
}

/** What is mounted at a crypt path, against the registered UUID. */
export type FsIdentity =
  | { kind: 'as-registered'; fsid: string }
  /** The crypt's filesystem (or a byte copy of it) under a temporary fsid: `holders` hold the registered UUID. */
  | { kind: 'temp-fsid'; fsid: string; uuid: string; source: string; registeredSource: boolean; holders: DeviceUse[] }
  /** Another filesystem altogether. */
  | { kind: 'other'; fsid: string; uuid: string; source: string; registeredSource: boolean; registered: string }
  /** Nothing is mounted there. */
  | { kind: 'none' }
  | { kind: 'unknown'; why: string };

/**
 * Compares the filesystem mounted at `point` (`ids` from BTRFS_IOC_FS_INFO on it, or, without an fd, from
 * the mount's device in sysfs) with the registered UUID. Reads only.
 */
export async function identifyMount(
  config: Pick<Config, 'method' | 'loopback' | 'partition'>,
  registered: string,
  point: string,
  ids?: { fsid: string; metadataUuid: string },
): Promise<FsIdentity> {
  const mounts = await readMountinfo();
  const m = mountAtPoint(mounts, (await realpath(point).catch(() => null)) ?? point);
  if (!m) return { kind: 'none' };
  const fs = ids ? await kernelFs(ids.fsid) : await kernelFsOfDevice(m.source);
  const fsid = ids?.fsid ?? fs?.fsid;
  if (!fsid) return { kind: 'unknown', why: `${m.source} at ${point} is not a Btrfs filesystem the kernel lists under ${SYSFS}` };
  if (fsid === registered) return { kind: 'as-registered', fsid };
  const uuid = ids?.metadataUuid ?? fs?.metadataUuid ?? fsid;
  const registeredSource = await isRegisteredSource(config, m.source);
  if (uuid === registered && (fs?.tempFsid ?? true)) {
    const holder = await kernelFs(registered);
    const holders = holder ? await Promise.all(holder.devices.map((d) => deviceUse(d, mounts))) : [];
    return { kind: 'temp-fsid', fsid, uuid, source: m.source, registeredSource, holders };
  }
  return { kind: 'other', fsid, uuid, source: m.source, registeredSource, registered };
}

/** One line naming where the other copy of the filesystem is (for doctor, status and refusals). */
export function describeHolders(uuid: string, holders: DeviceUse[]): string {
  if (!holders.length) return `another mount of the same filesystem (UUID ${uuid}) holds its UUID`;
  return holders
    .map((h) => {
      const from = `${h.device}${h.backingFile ? ` (${h.backingFile})` : ''}`;
      return h.mountedAt.length ? `${from} is mounted at ${h.mountedAt.join(', ')}` : `${from} is still open (mounted in another mount namespace, or being released)`;
    })
    .join('; ');
}
