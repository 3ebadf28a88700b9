// What a resize plans from, read from the host without changing anything: the crypt's mount, its device
// (the loop device and its image on Method B, the partition on Method A), Btrfs's size of that device and
// what the filesystem uses, and for an image the free space of the filesystem holding it.
import { realpath, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { CryptError } from '../../base/errors.js';
import { blockDeviceSize, readDevices, readUsedBytes } from '../../base/btrfs/devices.js';
import type { Runner } from '../../base/runner.js';
import type { Config } from '../../model/config.js';
import { mountAt } from '../../install/detect/findmnt.js';

export interface ImageFacts {
  path: string;
  /** Its apparent size, and how much of it holds blocks on the host (a sparse image less). */
  size: number;
  allocated: number;
  /** The host filesystem holding it: where it is, its free space (for us) and its size. */
  host: { dir: string; avail: number; total: number };
}

export interface CapacityFacts {
  method: 'loopback' | 'partition';
  mountPoint: string;
  /** The block device Btrfs is on: /dev/loopN, or the partition. */
  device: string;
  deviceSize: number;
  devid: number;
  /** Btrfs's size of that device: what `btrfs filesystem resize` changes. */
  fsSize: number;
  /** Bytes the filesystem uses (data and every metadata copy). */
  usedBytes: number;
  /** Method B only. */
  image: ImageFacts | null;
}

export async function readImageFacts(image: string): Promise<ImageFacts> {
  const st = await stat(image);
  const dir = path.dirname(image);
  const h = await statfs(dir);
  return { path: image, size: st.size, allocated: st.blocks * 512, host: { dir, avail: Number(h.bavail) * Number(h.bsize), total: Number(h.blocks) * Number(h.bsize) } };
}

export async function readCapacityFacts(runner: Runner, config: Config): Promise<CapacityFacts> {
  const where = config.crypt.path;
  if (config.method === 'native') {
    throw new CryptError(`the crypt "${config.crypt.name}" lives on the host's own Btrfs (method native): it has no size of its own to change`, {
      hint: 'Its free space is the host filesystem\'s: grow that, or move the crypt to its own image or partition.',
    });
  }
  const m = await mountAt(runner, where);
  if (!m || m.fstype !== 'btrfs') throw new CryptError(`the crypt "${config.crypt.name}" is not mounted at ${where}`, { hint: 'Run `lychd-crypt repair` to mount it, then resize.' });
  const devices = await readDevices(runner, where);
  const ours = devices.find((d) => d.path === m.source) ?? (devices.length === 1 ? devices[0] : undefined);
  if (!ours) throw new CryptError(`Btrfs at ${where} spans ${devices.length} devices, none of them ${m.source}: a resize of one device is not planned for that`);
  let image: ImageFacts | null = null;
  if (config.method === 'loopback') {
    const registered = config.loopback ? await realpath(config.loopback.image).catch(() => config.loopback!.image) : null;
    if (!registered || m.backingFile !== registered) {
      throw new CryptError(`the crypt at ${where} is mounted from ${m.source}${m.backingFile ? ` (${m.backingFile})` : ''}, not from its registered image ${config.loopback?.image ?? '(none)'}`, {
        hint: 'Run `lychd-crypt doctor` to see what is mounted there.',
      });
    }
    image = await readImageFacts(registered);
  }
  return {
    method: config.method,
    mountPoint: where,
    device: m.source,
    deviceSize: await blockDeviceSize(runner, m.source),
    devid: ours.devid,
    fsSize: ours.size,
    usedBytes: await readUsedBytes(runner, where),
    image,
  };
}
