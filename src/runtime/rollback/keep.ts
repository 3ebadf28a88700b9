// Turns the state a rollback replaced into an ordinary read-only snapshot `<time>-pre-rollback`, so the
// rollback itself can be undone. Idempotent, because crash recovery runs it again from any point:
// move the subvolume into snapshots/ (a read-only subvolume can no longer be moved: its `..` would
// change), make it read-only, then write its metadata last (until then `list` ignores it).
import { rename } from 'node:fs/promises';
import type { Runner } from '../../base/runner.js';
import type { OpenCrypt } from '../../base/crypt/open.js';
import { stagingPath } from '../../base/crypt/paths.js';
import { fsyncDir } from '../../base/sys/fs.js';
import { isSubvolume } from '../../base/btrfs/probe.js';
import { subvolumeShow } from '../../base/btrfs/subvolume.js';
import { hasCluster, readControlFacts } from '../../base/pg/controldata.js';
import { readMeta, snapshotPath, writeMeta, type SnapshotMeta } from '../snapshots/meta.js';
import { VERSION } from '../../base/version.js';
import type { RollbackEntry } from './run.js';
import path from 'node:path';
import { faultPoint } from '../../base/fault.js';

export async function keepReplacedState(entry: RollbackEntry, crypt: OpenCrypt, runner: Runner): Promise<SnapshotMeta> {
  const { paths } = crypt;
  const staging = stagingPath(paths.root, entry.staging.replace(/^\.staging-/, ''));
  const dest = snapshotPath(paths, entry.preRollbackName);
  if (await isSubvolume(staging)) {
    await rename(staging, dest);
    await fsyncDir(paths.root);
    await fsyncDir(paths.snapshots);
    faultPoint('rollback:keep-moved');
  }
  await runner.run(['btrfs', 'property', 'set', '-ts', dest, 'ro', 'true']);
  faultPoint('rollback:keep-ro');
  const existing = await readMeta(paths, entry.preRollbackName).catch(() => undefined);
  if (existing) return existing;
  const meta = await preRollbackMeta(entry, crypt, runner, dest);
  await writeMeta(paths, meta);
  return meta;
}

async function preRollbackMeta(entry: RollbackEntry, crypt: OpenCrypt, runner: Runner, dest: string): Promise<SnapshotMeta> {
  const pg = crypt.config.postgres;
  const info = await subvolumeShow(runner, dest);
  let postgres: SnapshotMeta['postgres'] = null;
  // The database was stopped (or not running) when this state was replaced: its files are at rest.
  const pgdata = pg ? path.join(dest, pg.dir) : null;
  if (pg && pgdata && (await hasCluster(pgdata))) {
    const facts = await readControlFacts(runner, pg.bin, pgdata, { uid: pg.uid, gid: pg.gid }).catch(() => null);
    postgres = {
      versionNum: null,
      major: facts?.major ?? null,
      systemIdentifier: facts?.systemIdentifier ?? null,
      clusterState: facts?.clusterState ?? null,
      startLsn: null,
      stopLsn: null,
      labelfile: null,
    };
  }
  return {
    format: 1,
    name: entry.preRollbackName,
    label: 'pre-rollback',
    createdAt: entry.startedAt,
    mode: postgres ? 'cold' : 'none',
    origin: { kind: 'pre-rollback', rollbackTo: entry.target, rollbackId: entry.id },
    postgres,
    btrfs: { uuid: info.uuid, generation: info.generation },
    timings: {},
    toolVersion: VERSION,
  };
}

