// The snapshot's metadata from what the Ritual observed (pure; written last, atomically, by the caller).
import type { SnapshotMeta, SnapshotMode } from '../snapshots/meta.js';
import type { SnapshotWal } from '../../model/snapshot-meta.js';
import { VERSION } from '../../base/version.js';
import type { ControlFacts } from '../../base/pg/controldata.js';
import type { ServerFacts } from './session.js';

export interface Observed {
  name: string;
  label: string | null;
  /** The instant of the Btrfs snapshot. */
  createdAt: Date;
  mode: SnapshotMode;
  hasDatabase: boolean;
  facts?: ServerFacts;
  cold?: ControlFacts;
  startLsn: string | null;
  stop: { lsn: string; labelfile: string } | null;
  btrfs: SnapshotMeta['btrfs'];
  timings?: Record<string, number>;
  /** The snapshot's own WAL copy (postgres.walDir). */
  wal?: SnapshotWal | null;
}

export function buildMeta(o: Observed): SnapshotMeta {
  let postgres: SnapshotMeta['postgres'] = null;
  if (o.hasDatabase && o.mode !== 'none') {
    postgres = o.facts
      ? {
          versionNum: o.facts.versionNum,
          systemIdentifier: o.facts.systemIdentifier,
          startLsn: o.startLsn,
          stopLsn: o.stop?.lsn ?? null,
          labelfile: o.stop?.labelfile || null,
          major: Math.floor(o.facts.versionNum / 10000),
          ...(o.wal ? { wal: o.wal } : {}),
        }
      : {
          versionNum: null,
          systemIdentifier: o.cold?.systemIdentifier ?? null,
          startLsn: null,
          stopLsn: null,
          labelfile: null,
          major: o.cold?.major ?? null,
          clusterState: o.cold?.clusterState ?? null,
          ...(o.wal ? { wal: o.wal } : {}),
        };
  }
  return {
    format: 1,
    name: o.name,
    label: o.label,
    createdAt: o.createdAt.toISOString(),
    mode: o.mode,
    origin: { kind: 'snapshot' },
    postgres,
    btrfs: o.btrfs,
    timings: o.timings ?? {},
    toolVersion: VERSION,
  };
}
