// The resize plan, pure: from the facts read (./facts.ts) and the size asked for, the steps in the one
// safe order, or a refusal that gives the numbers. Growing an image: the file first, then the loop device
// (refreshed before the file grew, it keeps the old size), then Btrfs. Shrinking: the reverse — Btrfs
// gives the end of the device back first, and only then is the file cut. A partition (Method A) is grown
// by whoever enlarged it; Btrfs then takes the room.
import { RefusedError, UsageError } from '../../base/errors.js';
import type { CapacityStep } from '../../model/steps.js';
import type { FreeFloor } from '../../model/settings.js';
import { formatSize, humanSize, parseSize } from '../../model/units.js';
import { metadataMargin } from '../space/estimate.js';
import { floorBytes } from '../status/space.js';
import type { CapacityFacts } from './facts.js';
import { hostMargin } from '../../install/image-size.js';

export { hostMargin };

const MiB = 2 ** 20;

/** What --size asked: an absolute size, or (+SIZE) that much more than today. */
export type SizeRequest = { kind: 'absolute'; bytes: number } | { kind: 'grow-by'; bytes: number };

export function parseSizeRequest(text: string): SizeRequest {
  const plus = text.trim().startsWith('+');
  const bytes = parseSize(plus ? text.trim().slice(1) : text);
  if (bytes === undefined) throw new UsageError(`--size: "${text}" is not a size`, { hint: 'e.g. --size 40G (the new size) or --size +10G (that much more).' });
  return plus ? { kind: 'grow-by', bytes } : { kind: 'absolute', bytes };
}


/** What must stay free inside the crypt after a shrink: Btrfs's metadata margin and the free-space floor (default 10%). */
export function shrinkReserve(targetBytes: number, floor: FreeFloor | null): number {
  return metadataMargin(targetBytes) + floorBytes(floor ?? { percent: 10 }, targetBytes);
}

export interface ResizePlan {
  fromBytes: number;
  toBytes: number;
  direction: 'grow' | 'shrink' | 'none';
  steps: CapacityStep[];
  /** Said along the plan (why nothing changes, how much the host keeps free). */
  notes: string[];
}

export interface PlanOptions {
  /** Finishing an interrupted resize: its checks were passed when it started; only the steps are made again. */
  finishing?: boolean;
  /** Grow the image with fallocate (loopback.preallocate, or an image that has no holes today). */
  preallocate?: boolean;
  /** The crypt's configured free-space floor (space.minFree). */
  floor?: FreeFloor | null;
  /** --preallocate: allocate the image's holes now (and grow it so from then on). */
  preallocateNow?: boolean;
}

/** The current size the request is measured from: the image (Method B) or Btrfs's share of the partition. */
const currentSize = (f: CapacityFacts): number => (f.image ? f.image.size : f.fsSize);

function targetOf(f: CapacityFacts, req: SizeRequest | null): number {
  if (!req) return f.method === 'partition' ? f.deviceSize : currentSize(f);
  const raw = req.kind === 'grow-by' ? currentSize(f) + req.bytes : req.bytes;
  // Whole MiB: Btrfs sizes its device in sectors, and the loop device, the file and Btrfs must agree exactly.
  return Math.floor(raw / MiB) * MiB;
}

function refuseHost(f: CapacityFacts, to: number): void {
  const img = f.image!;
  const claim = Math.max(0, to - img.allocated);
  const margin = hostMargin(img.host.total);
  const room = Math.max(0, img.host.avail - margin);
  if (claim <= room) return;
  const most = Math.floor((img.allocated + room) / MiB) * MiB;
  throw new RefusedError(
    `the image ${img.path} at ${formatSize(to)} could claim ${humanSize(claim)} more of ${img.host.dir}, which has ${humanSize(img.host.avail)} free and must keep ${humanSize(margin)} of it (5%, at least 256 MiB); nothing was changed`,
    {
      hint: most > img.size
        ? `Free space on ${img.host.dir}, or grow less: at most --size ${formatSize(most)} fits now. For more room than the host has, move the crypt to its own partition (\`lychd-crypt migrate --to-device DEV\`).`
        : `Free space on ${img.host.dir} first, or move the crypt to its own partition (\`lychd-crypt migrate --to-device DEV\`).`,
    },
  );
}

function refuseShrink(f: CapacityFacts, to: number, floor: FreeFloor | null): void {
  const reserve = shrinkReserve(to, floor);
  if (f.usedBytes + reserve <= to) return;
  // The smallest size that holds the data and the reserve (the reserve grows with the size: solve for it, then round up).
  let min = Math.ceil((f.usedBytes + reserve) / MiB) * MiB;
  while (f.usedBytes + shrinkReserve(min, floor) > min) min += 64 * MiB;
  throw new RefusedError(
    `the crypt cannot shrink to ${formatSize(to)}: it holds ${humanSize(f.usedBytes)} (data, snapshots and metadata) and ${humanSize(reserve)} must stay free at that size (Btrfs metadata margin and the free-space floor); nothing was changed`,
    { hint: `Choose at least --size ${formatSize(min)}, or make room first (\`lychd-crypt prune\`, \`lychd-crypt delete NAME\`) and run it again.` },
  );
}

export function planResize(f: CapacityFacts, req: SizeRequest | null, opts: PlanOptions = {}): ResizePlan {
  const from = currentSize(f);
  const to = targetOf(f, req);
  const notes: string[] = [];
  const grows = f.method === 'partition' ? to > f.fsSize : to > from || f.deviceSize < to || f.fsSize < to;
  const shrinks = f.method === 'partition' ? to < f.fsSize : to < from || f.fsSize > to || f.deviceSize > to;
  if (f.method === 'partition' && to > f.deviceSize) {
    throw new RefusedError(`the partition ${f.device} is ${humanSize(f.deviceSize)}: Btrfs cannot grow to ${formatSize(to)} on it; nothing was changed`, {
      hint: `Enlarge the partition first (growpart, parted resizepart), then run \`lychd-crypt resize\` without --size: Btrfs takes all of it.`,
    });
  }
  const img0 = f.image;
  if (!grows && !shrinks && opts.preallocateNow && img0 && img0.allocated < img0.size) {
    // The same size, every block allocated: the host must have room for the holes it fills.
    if (!opts.finishing) refuseHost(f, to);
    return { fromBytes: from, toBytes: to, direction: 'grow', steps: [{ kind: 'resize-image', path: img0.path, sizeBytes: to, preallocate: true, mountPoint: f.mountPoint, devid: f.devid }], notes: [`allocates the ${humanSize(img0.size - img0.allocated)} of holes in ${img0.path}`] };
  }
  if (!grows && !shrinks) {
    notes.push(`the crypt is already ${formatSize(to)}: nothing to do`);
    return { fromBytes: from, toBytes: to, direction: 'none', steps: [], notes };
  }
  if (shrinks && !opts.finishing) refuseShrink(f, to, opts.floor ?? null);
  if (f.method === 'partition') {
    return {
      fromBytes: f.fsSize,
      toBytes: to,
      direction: grows ? 'grow' : 'shrink',
      steps: [{ kind: 'resize-btrfs', mountPoint: f.mountPoint, devid: f.devid, sizeBytes: to, max: to === f.deviceSize }],
      notes,
    };
  }
  const img = f.image!;
  const image: CapacityStep = { kind: 'resize-image', path: img.path, sizeBytes: to, preallocate: grows && !!(opts.preallocate || opts.preallocateNow), mountPoint: f.mountPoint, devid: f.devid };
  const loop: CapacityStep = { kind: 'refresh-loop', device: f.device, path: img.path, sizeBytes: to };
  if (grows) {
    if (!opts.finishing) refuseHost(f, to);
    notes.push(`${img.host.dir} has ${humanSize(img.host.avail)} free`);
    return { fromBytes: from, toBytes: to, direction: 'grow', steps: [image, loop, { kind: 'resize-btrfs', mountPoint: f.mountPoint, devid: f.devid, sizeBytes: to, max: true }], notes };
  }
  return { fromBytes: from, toBytes: to, direction: 'shrink', steps: [{ kind: 'resize-btrfs', mountPoint: f.mountPoint, devid: f.devid, sizeBytes: to, max: false }, image, loop], notes };
}
