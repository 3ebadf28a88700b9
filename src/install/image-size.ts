// The image size proposed when the answers give none (the wizard's default, and unattended runs).
const G = 2 ** 30;
const M = 2 ** 20;

/** A host must keep this free beyond all an image could claim: 5% of it, at least 256 MiB, at most 8 GiB. */
export function hostMargin(hostBytes: number): number {
  return Math.min(8 * G, Math.max(256 * M, Math.round(hostBytes * 0.05)));
}

/**
 * loopback.preallocate's default for a new image: allocate it all (fallocate) when the host has room for
 * it and the margin, so a host that fills up later cannot force the crypt read-only; else sparse.
 */
export function defaultPreallocate(sizeBytes: number, hostFreeBytes: number | undefined): boolean {
  return hostFreeBytes !== undefined && sizeBytes + hostMargin(hostFreeBytes) <= hostFreeBytes;
}

/**
 * The image size to propose: 20G, or 80% of the free space when that is less (rounded down to whole G,
 * or to 64M steps below 1G), and never below the 128M mkfs.btrfs needs. A sparse image takes space only
 * as the crypt fills, but one larger than its filesystem's free space fails the day it fills up.
 */
export function proposeImageSize(freeBytes: number | undefined): string {
  if (freeBytes === undefined) return '20G';
  const room = Math.min(20 * G, freeBytes * 0.8);
  if (room >= G) return `${Math.floor(room / G)}G`;
  return `${Math.max(128, Math.floor(room / (64 * M)) * 64)}M`;
}
