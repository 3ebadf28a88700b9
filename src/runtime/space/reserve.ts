// The space reserve: before snapshot, rollback and verify, refuse (exit 3, nothing changed) when what
// the operation writes would take the crypt below the reserve that keeps PostgreSQL alive — a full
// crypt makes the server PANIC, and a full host forces a loopback crypt read-only. doctor warns at the
// same threshold (space.reserve).
import { RefusedError } from '../../base/errors.js';
import { estimateSpace, threshold, type SpaceNeed, type SpaceOp } from './estimate.js';
import { readFreeSpace, readWalSegmentSize, type FreeSpace } from './probe.js';
import { humanSize } from '../../model/units.js';

export interface SpaceVerdict {
  need: SpaceNeed;
  free: FreeSpace;
  enough: boolean;
}

export interface SpaceTarget {
  root: string;
  /** Loopback image, or null. */
  image: string | null;
  /** PGDATA, or null without a database. */
  pgdata: string | null;
}

export async function assessSpace(t: SpaceTarget, op: SpaceOp): Promise<SpaceVerdict> {
  const free = await readFreeSpace(t.root, t.image);
  const walSegmentBytes = t.pgdata ? await readWalSegmentSize(t.pgdata) : null;
  const need = estimateSpace(op, { walSegmentBytes, totalBytes: free.cryptTotal });
  return { need, free, enough: free.usable >= threshold(need) };
}

/** "33 MiB (1 MiB snapshot metadata + 32 MiB 2 WAL segments …)". */
function parts(total: number, ps: SpaceNeed['parts']): string {
  return `${humanSize(total)} (${ps.map((p) => `${humanSize(p.bytes)} ${p.what}`).join(' + ')})`;
}

export function describeFree(f: FreeSpace): string {
  const crypt = `${humanSize(f.cryptAvail)} free on the crypt`;
  if (!f.host || f.host.imageGrowth === 0) return crypt;
  return `${crypt}, ${humanSize(f.host.avail)} free on the image's host filesystem ${f.host.dir} (the sparse image may still grow by ${humanSize(f.host.imageGrowth)})`;
}

export function shortfallMessage(v: SpaceVerdict): string {
  const { need, free } = v;
  return (
    `not enough free space for ${need.op === 'verify' ? 'a verify clone' : `a ${need.op}`}: it writes about ${parts(need.needBytes, need.parts)} ` +
    `and ${humanSize(need.reserveBytes)} must stay free after it (${need.reserveParts.map((p) => `${humanSize(p.bytes)} ${p.what}`).join(' + ')}); ` +
    `usable now: ${humanSize(free.usable)} (${describeFree(free)}). Nothing was changed.`
  );
}

export async function refuseWithoutRoom(t: SpaceTarget, op: SpaceOp): Promise<SpaceVerdict> {
  const v = await assessSpace(t, op);
  if (!v.enough) {
    const hostShort = v.free.host !== null && v.free.usable < v.free.cryptAvail;
    throw new RefusedError(shortfallMessage(v), {
      hint: hostShort
        ? `Free space on ${v.free.host!.dir} (the filesystem holding the crypt image), or delete old snapshots (\`lychd-crypt prune\`, \`lychd-crypt delete NAME\`); then run it again.`
        : 'Delete old snapshots (`lychd-crypt prune --keep N`, `lychd-crypt delete NAME`) or grow the filesystem, then run it again.',
    });
  }
  return v;
}
