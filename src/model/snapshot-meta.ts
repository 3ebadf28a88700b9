// A snapshot's metadata (snapshots/<name>.json): what the Ritual recorded beside the subvolume. Read and
// written by runtime/snapshots/meta.ts, checked by runtime/snapshots/meta-schema.ts.

export type SnapshotMode = 'bracket' | 'checkpoint' | 'instant' | 'cold' | 'none';

export interface SnapshotMeta {
  /** Schema version of this file. */
  format: 1;
  name: string;
  label: string | null;
  /** ISO 8601 UTC. */
  createdAt: string;
  mode: SnapshotMode;
  /** Why it exists: a user's snapshot, or the state a rollback replaced. */
  origin: { kind: 'snapshot' } | { kind: 'pre-rollback'; rollbackTo: string; rollbackId: string };
  postgres: {
    /** server_version_num, e.g. 150014; null when unknown (cold/none). */
    versionNum: number | null;
    /** pg_control_system().system_identifier as a decimal string; read from pg_controldata when cold. */
    systemIdentifier: string | null;
    startLsn: string | null;
    stopLsn: string | null;
    /** The backup_label content pg_backup_stop returned; kept for reference, never written into a restore. */
    labelfile: string | null;
    /** Major version (from PG_VERSION or server_version_num); optional: absent in older files. */
    major?: number | null;
    /** pg_controldata's "Database cluster state" for cold snapshots ("shut down", or "in production" after a crash). */
    clusterState?: string | null;
    /** Set when the live WAL was outside the crypt (postgres.walDir): what the snapshot's own pg_wal holds. */
    wal?: SnapshotWal | null;
  } | null;
  btrfs: { uuid: string; generation: number } | null;
  /** Phase name -> milliseconds. */
  timings: Record<string, number>;
  toolVersion: string;
  /**
   * The crypt's filesystem when the snapshot was taken (statfs): size, used, free for us. The free-space
   * trend (status, doctor's space.trend) is read from these; absent in files written before them.
   */
  space?: { sizeBytes: number; usedBytes: number; freeBytes: number } | null;
  /** Pinned: never pruned, not even to keep the free-space floor (`pin`/`unpin`, `snapshot --pin`). */
  pinned?: boolean;
  /**
   * Set when `repair` rebuilt a lost metadata file from the subvolume and pg_controldata: the time of that,
   * and the snapshot cluster's latest checkpoint and timeline (the bracket's LSNs could not be recovered).
   */
  rebuilt?: { at: string; checkpointLsn: string | null; timeline: number | null };
  /**
   * Set when `restore` received the snapshot from a target: from where, when, the origin UUID that names it on
   * every side (its received UUID), and the tool version that restored it. `btrfs` is then this host's copy.
   */
  restored?: { from: string; at: string; originUuid: string; by: string };
}

/**
 * A snapshot taken with the live WAL outside the crypt (docs/wal.md) carries its own copy of the WAL it needs.
 * `restorePoint`: the LSN a restore of it reaches — the backup's stop LSN (bracket), not the instant of the
 * Btrfs snapshot; for a stopped cluster its last checkpoint's end of WAL (null: not known).
 * `label`: `own` when the snapshot carries the backup_label written with its copy (a rollback keeps it).
 */
export interface SnapshotWal {
  placement: 'outside';
  restorePoint: string | null;
  timeline: number;
  segments: { first: string; last: string; count: number };
  histories: string[];
  bytes: number;
  copyMs: number;
  held: 'slot' | 'none';
  label: 'own' | 'none';
}
