// Metadata for a complete read-only snapshot whose `<name>.json` was lost: rebuilt from what the snapshot
// itself still says — the subvolume (creation time, UUID, generation: BTRFS_IOC_GET_SUBVOL_INFO) and, with a
// database, the cluster's control data in the snapshot's PGDATA (pg_controldata: system identifier, state,
// latest checkpoint, timeline; without it, the first two from global/pg_control). The snapshot is kept: only the Ritual's own observations (LSNs of the
// backup bracket, timings) cannot be recovered, and the file says it was rebuilt.
import path from 'node:path';
import type { PostgresConfig } from '../../model/config.js';
import { asUser, type Runner } from '../../base/runner.js';
import type { CryptPaths } from '../../base/crypt/paths.js';
import { resolvePgBin, pgProgram } from '../../base/pg/bin.js';
import { hasCluster, readControlFacts, readMajor } from '../../base/pg/controldata.js';
import { throughUserns } from '../../base/userns/tree.js';
import { closeDir, openDir, subvolInfo, type SubvolInfo } from '../../base/sys/fd.js';
import { VERSION } from '../../base/version.js';
import { snapshotPath, type SnapshotMeta } from './meta.js';

/** What pg_controldata says about the snapshot's cluster (null fields: not printed, or no pg_controldata). */
export interface SnapshotControl {
  systemIdentifier: string | null;
  clusterState: string | null;
  checkpointLsn: string | null;
  timeline: number | null;
  major: number | null;
}

export function parseControl(text: string, major: number | null): SnapshotControl {
  const field = (key: string): string | null => {
    const m = new RegExp(`^${key}:\\s*(.+)$`, 'm').exec(text);
    return m ? m[1]!.trim() : null;
  };
  const tli = Number.parseInt(field("Latest checkpoint's TimeLineID") ?? '', 10);
  return {
    systemIdentifier: field('Database system identifier'),
    clusterState: field('Database cluster state'),
    checkpointLsn: field('Latest checkpoint location'),
    timeline: Number.isInteger(tli) ? tli : null,
    major,
  };
}

/** The label the name carries (its slug after the time and an optional `-N`), or null. */
export function labelFromName(name: string): string | null {
  const m = /^\d{8}T\d{6}Z(?:-(.*))?$/.exec(name);
  if (!m) return name; // not one of our names: the whole name says what it is
  const rest = m[1] ?? '';
  return rest && !/^\d+$/.test(rest) ? rest : null;
}

/** Pure: the metadata from the subvolume's and the cluster's facts (control null: no database in it). */
export function rebuiltMeta(name: string, sub: Pick<SubvolInfo, 'uuid' | 'generation' | 'otime'>, control: SnapshotControl | null, now: Date): SnapshotMeta {
  // A cluster shut down cleanly is a cold snapshot; anything else (in production) is crash-consistent,
  // which is what a checkpoint-mode snapshot is: the clone's crash recovery brings it up.
  const mode = control ? (control.clusterState === 'shut down' ? 'cold' : 'checkpoint') : 'none';
  return {
    format: 1,
    name,
    label: labelFromName(name),
    createdAt: new Date(sub.otime * 1000).toISOString(),
    mode,
    origin: { kind: 'snapshot' },
    postgres: control
      ? { versionNum: null, systemIdentifier: control.systemIdentifier, startLsn: null, stopLsn: null, labelfile: null, major: control.major, clusterState: control.clusterState }
      : null,
    btrfs: { uuid: sub.uuid, generation: sub.generation },
    timings: {},
    toolVersion: VERSION,
    rebuilt: { at: now.toISOString(), checkpointLsn: control?.checkpointLsn ?? null, timeline: control?.timeline ?? null },
  };
}

/** Reads the facts of snapshots/<name> and builds its metadata (the caller writes it). */
export async function rebuildMeta(runner: Runner, paths: CryptPaths, name: string, pg: PostgresConfig | null, now = new Date()): Promise<SnapshotMeta> {
  const dir = await openDir(snapshotPath(paths, name));
  let sub: SubvolInfo;
  try {
    sub = await subvolInfo(dir);
  } finally {
    await closeDir(dir);
  }
  let control: SnapshotControl | null = null;
  const pgdata = pg ? path.join(snapshotPath(paths, name), pg.dir) : null;
  if (pg && pgdata && (await hasCluster(pgdata))) {
    const major = (await readMajor(pgdata)) ?? Number.NaN;
    // A container's cluster has no pg_controldata here that may read it (base/pg/controldata.ts).
    const bin = throughUserns(pgdata) ? null : await resolvePgBin(pg.bin).catch(() => null);
    // pg_controldata only reads; as the cluster's owner, since PGDATA is 0700.
    const r = bin ? await runner.run(asUser({ uid: pg.uid, gid: pg.gid }, [pgProgram(bin, 'pg_controldata'), '-D', pgdata]), { allowFailure: true }) : null;
    control = parseControl(r?.exitCode === 0 ? r.stdout : '', Number.isInteger(major) ? major : null);
    // Without pg_controldata (embedded builds, containers) identifier and state are in the control file's head.
    if (!control.systemIdentifier) {
      const head = await readControlFacts(runner, null, pgdata, { uid: pg.uid, gid: pg.gid }).catch(() => null);
      control.systemIdentifier = head?.systemIdentifier ?? null;
      control.clusterState ??= head?.clusterState ?? null;
    }
  }
  return rebuiltMeta(name, sub, control, now);
}
