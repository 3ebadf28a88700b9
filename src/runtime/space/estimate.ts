// What a command will write on the crypt, and how much must stay free after it so PostgreSQL can keep
// going (pure). The numbers are deliberately coarse upper bounds from measurement on PostgreSQL 15:
// an idle bracket snapshot costs one to two WAL segments (the backup start's checkpoint and the backup
// stop's segment switch, whose new or recycled segment is written outside the extents the snapshot
// pins); a rollback's and a verify clone's crash recovery write about as much again into copy-on-write
// extents. Btrfs needs metadata room for every new subvolume and for its own commits.

export type SpaceOp = 'snapshot' | 'rollback' | 'verify';

export interface SpaceFacts {
  /** The cluster's wal_segment_size (16 MiB unless initdb --wal-segsize chose another); null: no database. */
  walSegmentBytes: number | null;
  /** Size of the crypt's filesystem, for the metadata margin. */
  totalBytes: number;
}

export interface SpacePart {
  what: string;
  bytes: number;
}

export interface SpaceNeed {
  op: SpaceOp;
  /** What the operation itself writes. */
  parts: SpacePart[];
  needBytes: number;
  /** What must stay free afterwards. */
  reserveParts: SpacePart[];
  reserveBytes: number;
}

const MiB = 2 ** 20;
/** A new subvolume (snapshot, clone) plus our metadata file: a few Btrfs tree nodes and one small file. */
export const SUBVOLUME_METADATA = 1 * MiB;

/** 1% of the filesystem, at least 8 MiB and at most 256 MiB: room for Btrfs's own metadata commits. */
export function metadataMargin(totalBytes: number): number {
  return Math.min(256 * MiB, Math.max(8 * MiB, Math.round(totalBytes * 0.01)));
}

export function estimateSpace(op: SpaceOp, f: SpaceFacts): SpaceNeed {
  const wal = f.walSegmentBytes;
  const parts: SpacePart[] = [];
  if (op === 'snapshot') {
    parts.push({ what: 'snapshot metadata', bytes: SUBVOLUME_METADATA });
    if (wal) parts.push({ what: '2 WAL segments (backup start checkpoint, backup stop segment switch)', bytes: 2 * wal });
  } else if (op === 'rollback') {
    parts.push({ what: 'staging clone and kept pre-rollback snapshot metadata', bytes: 2 * SUBVOLUME_METADATA });
    if (wal) parts.push({ what: "2 WAL segments (the restored state's crash recovery and checkpoint)", bytes: 2 * wal });
  } else {
    parts.push({ what: 'verify clone metadata', bytes: SUBVOLUME_METADATA });
    if (wal) parts.push({ what: "3 WAL segments (the clone's crash recovery, checkpoint and checks)", bytes: 3 * wal });
  }
  const reserveParts: SpacePart[] = [{ what: 'Btrfs metadata margin', bytes: metadataMargin(f.totalBytes) }];
  if (wal) reserveParts.push({ what: '2 WAL segments for the live database to keep writing', bytes: 2 * wal });
  const sum = (xs: SpacePart[]) => xs.reduce((a, p) => a + p.bytes, 0);
  return { op, parts, needBytes: sum(parts), reserveParts, reserveBytes: sum(reserveParts) };
}

/** Free space below which the operation is refused: what it writes plus the reserve. */
export function threshold(n: SpaceNeed): number {
  return n.needBytes + n.reserveBytes;
}
