// Refusals the planner raises before any step runs: bad combinations (exit 2) and data at risk (exit 3).
import path from 'node:path';
import type { Config } from '../../model/config.js';
import { approxSize, formatSize } from '../../model/units.js';
import { RefusedError, UsageError } from '../../base/errors.js';
import type { HostFacts } from '../detect/facts.js';
import { describeSignatures } from '../detect/signatures.js';
import { judgeWalPlacement } from '../../base/wal/placement.js';

/** Free space for people: one decimal in the largest unit (258150K reads better as 252.1M). */

/** Method A: the device must exist, be a free block device, and hold nothing unless wipe: true. */
export function checkDevice(facts: HostFacts, config: Config): { needsMkfs: boolean } {
  const part = config.partition!;
  const dev = facts.device;
  if (!dev || !dev.exists) throw new UsageError(`partition.device: ${part.device} does not exist`, { hint: 'Name an existing block device (lsblk lists them).' });
  if (!dev.isBlock) throw new UsageError(`partition.device: ${part.device} is not a block device`);
  if (dev.readOnly) throw new UsageError(`partition.device: ${part.device} is read-only`);
  const mountedHere = dev.mountPoints.includes(config.crypt.path);
  const elsewhere = dev.mountPoints.filter((m) => m !== config.crypt.path);
  if (elsewhere.length) throw new RefusedError(`${part.device} is mounted at ${elsewhere.join(', ')}`, { hint: 'Unmount it first, or choose another device.' });
  if (dev.inUse.length) {
    throw new RefusedError(`${part.device} is in use: ${dev.inUse.join('; ')}; nothing was changed`, { hint: 'Unmount it (swapoff a swap device) or choose another device.' });
  }
  if (dev.holders.length) {
    throw new RefusedError(`${part.device} is in use by ${dev.holders.join(', ')} (LVM, RAID or dm-crypt)`, { hint: 'Choose a device nothing else uses.' });
  }
  // resolveConfig kept the UUID of a filesystem we made earlier; a fresh UUID matches nothing on the device.
  const ours = mountedHere || dev.signatures.some((s) => s.type === 'btrfs' && s.uuid === part.uuid);
  if (ours) return { needsMkfs: false };
  if (dev.signatures.length && !part.wipe) {
    throw new RefusedError(`${part.device} holds data (${describeSignatures(dev.signatures)}); nothing was changed`, {
      hint: 'To format it anyway and lose that data, set partition.wipe: true in the answers file (or confirm interactively).',
    });
  }
  return { needsMkfs: true };
}

/** Method B: an existing image is reused when it already holds Btrfs; anything else in it is refused. */
export function checkImage(facts: HostFacts, config: Config): { create: boolean; needsMkfs: boolean } {
  const lb = config.loopback!;
  const img = facts.image;
  const host = facts.imageHost;
  if (img?.exists && img.signatures.some((s) => s.type === 'btrfs')) {
    checkFits(lb.sizeBytes - img.sizeBytes, lb.sizeBytes, host);
    return { create: false, needsMkfs: false };
  }
  if (img?.exists && img.signatures.length) {
    throw new RefusedError(`the image ${lb.image} holds data (${describeSignatures(img.signatures)}); nothing was changed`, {
      hint: 'Choose another loopback.image, or move that file away yourself.',
    });
  }
  // A power cut inside mkfs leaves written blocks without a superblock; the crypt's own provisional entry
  // (written before mkfs, naming this image) says they are that mkfs's, so the next run formats it again.
  const ownPartial = facts.registry.entries.some(
    (e) => e.name === facts.registry.name && e.identity.rootIno === 0 && e.config.crypt.path === facts.cryptPath && e.config.loopback?.image === lb.image,
  );
  if (img?.exists && img.allocatedBytes > 0 && !ownPartial) {
    throw new RefusedError(`the file ${lb.image} exists and holds ${formatSize(img.allocatedBytes)} of data; nothing was changed`, {
      hint: 'Choose another loopback.image, or remove that file yourself.',
    });
  }
  checkFits(lb.sizeBytes - (img?.sizeBytes ?? 0), lb.sizeBytes, host);
  return { create: true, needsMkfs: true };
}

/** The image (or what it grows by) must fit in the free space of its filesystem (exit 2). */
function checkFits(growBytes: number, sizeBytes: number, host: HostFacts['imageHost']): void {
  if (host && growBytes > host.freeBytes) {
    throw new UsageError(`loopback.size: ${formatSize(sizeBytes)} does not fit: ${host.path} (${host.fstype}) has ${approxSize(host.freeBytes)} free`, {
      hint: 'Choose a smaller loopback.size, or put loopback.image on a filesystem with more room.',
    });
  }
}

/** Migrated data must fit where it is copied to (checked now rather than failing half-way through cp). */
export function checkDataFits(facts: HostFacts, config: Config): void {
  const data = facts.cryptDataBytes;
  if (!data) return;
  // Btrfs needs room for its own metadata: keep a margin of 10% (at least 64M) of a new filesystem.
  const room =
    config.method === 'loopback'
      ? config.loopback!.sizeBytes - Math.max(64 * 2 ** 20, config.loopback!.sizeBytes / 10)
      : config.method === 'partition'
        ? (facts.device?.sizeBytes ?? 0) - Math.max(64 * 2 ** 20, (facts.device?.sizeBytes ?? 0) / 10)
        : facts.freeBytes;
  if (data > room) {
    const where = config.method === 'loopback' ? `the ${formatSize(config.loopback!.sizeBytes)} image` : config.method === 'partition' ? config.partition!.device : `the free space of ${facts.hostFs.target}`;
    throw new UsageError(`the ${approxSize(data)} of existing data in ${config.crypt.path} do not fit in ${where}; nothing was changed`, {
      hint: config.method === 'loopback' ? 'Choose a larger loopback.size.' : 'Make room, or move the data elsewhere first.',
    });
  }
}

/** Someone else's fstab line for the crypt path would fight ours: never two definitions for one mount point. */
export function checkForeignPersistence(facts: HostFacts): void {
  const foreign = facts.persisted.fstabLines.filter((l) => !l.tagged);
  if (foreign.length) {
    throw new RefusedError(
      `the fstab already mounts ${foreign[0]!.what} at ${facts.cryptPath} (line ${foreign.map((l) => l.line).join(', ')}); nothing was changed`,
      { hint: 'Remove or comment out that line, or choose another crypt.path.' },
    );
  }
}

/** A foreign filesystem mounted at the crypt path is not ours to take over. */
export function checkCryptMount(facts: HostFacts, config: Config): boolean {
  const m = facts.cryptMount;
  if (!m) return false;
  const ours =
    (config.method === 'loopback' && m.backingFile === config.loopback!.image) ||
    (config.method === 'partition' && (facts.device?.mountPoints.includes(config.crypt.path) ?? false));
  if (ours) return true;
  if (config.method === 'native') return false;
  throw new RefusedError(`${config.crypt.path} is already a mount point of ${m.source} (${m.fstype}); nothing was changed`, {
    hint: 'Unmount it, or choose another crypt.path.',
  });
}

/**
 * init makes the registry directory and the state directory inside directories that must exist already
 * (it never creates a tree above a root-owned system directory): say so before anything is changed, at the
 * answers' own key, rather than failing at the step that makes them (issue 29, finding 4).
 */
export function checkRegistryParents(facts: HostFacts, config: Config): void {
  const parents = facts.registryParents;
  if (!parents) return;
  // The state directory of a rootless crypt lives in its owner's home; registry.state is then only where a migration mounts.
  const problems: [key: string, dir: string, ok: boolean][] = [
    ['registry.state', config.registry.state, parents.state],
    ['registry.dir', config.registry.dir, parents.dir],
  ];
  for (const [key, dir, ok] of problems) {
    if (ok) continue;
    throw new UsageError(`${key}: ${path.dirname(dir)} does not exist (init makes ${dir} in an existing directory); nothing was changed`, {
      hint: `Create ${path.dirname(dir)} first, or choose a ${key} whose parent directory exists.`,
    });
  }
}

/** postgres.walDir on the host's own durable filesystem, outside the crypt, trusted (base/wal/placement.ts). */
export function checkWalPlacement(facts: HostFacts, config: Config): void {
  const f = facts.walPlacement;
  if (!f || !config.postgres?.walDir) return;
  // What init's own run made under it (this crypt's generations) is expected there.
  const problems = judgeWalPlacement(f, { cryptPath: config.crypt.path, ownerUid: config.crypt.uid });
  if (!problems.length && facts.walNow?.pgWal === 'dir' && facts.walNow.running) {
    throw new RefusedError(`postgres.walDir: the cluster's WAL is to move out of PGDATA, but PostgreSQL is running on it; nothing was changed`, {
      hint: 'Stop PostgreSQL, run init again (it moves pg_wal to walDir and leaves the link), then start it.',
    });
  }
  if (problems.length) {
    throw new UsageError(`postgres.walDir: ${problems.join('; ')}; nothing was changed`, {
      hint: 'Choose a directory on the host\'s own filesystem (e.g. /var/lib/lychd-wal/<name>), owned by root or the crypt\'s owner, writable by nobody else (docs/wal.md).',
    });
  }
}
