// Which snapshot a rollback goes to, and whether its cluster is the live one: a snapshot from another
// PostgreSQL major version or another cluster (system identifier) would replace the database with a
// foreign one, so it is refused unless --force.
import { RefusedError, UsageError } from '../../base/errors.js';
import type { Runner } from '../../base/runner.js';
import type { OpenCrypt } from '../../base/crypt/open.js';
import { pgdataPath } from '../../base/crypt/paths.js';
import { isSubvolume } from '../../base/btrfs/probe.js';
import { hasCluster, readControlFacts } from '../../base/pg/controldata.js';
import { readMeta, snapshotPath, type SnapshotMeta } from '../snapshots/meta.js';
import { isSnapshotName } from '../snapshots/names.js';
import { NAMING_HINT } from '../snapshots/resolve.js';

export async function resolveTarget(crypt: OpenCrypt, name: string): Promise<SnapshotMeta> {
  const hint = `Nothing was changed. ${NAMING_HINT}`;
  if (!isSnapshotName(name)) throw new UsageError(`no such snapshot: ${name}`, { hint });
  const meta = await readMeta(crypt.paths, name).catch(() => undefined);
  const dir = snapshotPath(crypt.paths, name);
  if (!(await isSubvolume(dir))) throw new UsageError(`no such snapshot: ${name} (not a snapshot subvolume)`, { hint });
  if (!meta) {
    throw new UsageError(`snapshot ${name} is incomplete (it has no metadata) and cannot be rolled back to`, {
      hint: 'Run `lychd-crypt repair` to remove it.',
    });
  }
  return meta;
}

export interface LiveCluster {
  major: number | null;
  systemIdentifier: string | null;
}

/** The live cluster's identity, read from its files (the server may be running or not). */
export async function readLiveCluster(crypt: OpenCrypt, runner: Runner): Promise<LiveCluster | null> {
  const pg = crypt.config.postgres;
  if (!pg) return null;
  const pgdata = pgdataPath(crypt.paths.root, pg.dir);
  if (!(await hasCluster(pgdata))) return null; // no cluster yet
  const facts = await readControlFacts(runner, pg.bin, pgdata, { uid: pg.uid, gid: pg.gid });
  return { major: facts.major, systemIdentifier: facts.systemIdentifier };
}

export function compatibilityProblems(meta: SnapshotMeta, live: LiveCluster | null): string[] {
  const snap = meta.postgres;
  if (!snap || !live) return [];
  const problems: string[] = [];
  const snapMajor = snap.major ?? (snap.versionNum ? Math.floor(snap.versionNum / 10000) : null);
  if (snapMajor !== null && live.major !== null && snapMajor !== live.major) {
    problems.push(`the snapshot holds a PostgreSQL ${snapMajor} cluster, the live one is PostgreSQL ${live.major}`);
  }
  if (snap.systemIdentifier && live.systemIdentifier && snap.systemIdentifier !== live.systemIdentifier) {
    problems.push(`the snapshot's cluster (system identifier ${snap.systemIdentifier}) is not the live one (${live.systemIdentifier})`);
  }
  return problems;
}

export function refuseIncompatible(name: string, problems: string[]): never {
  throw new RefusedError(`refusing to roll back to ${name}: ${problems.join('; ')}. Nothing was changed`, {
    hint: 'If this is really what you want (e.g. undoing a major upgrade), run the rollback again with --force.',
  });
}
