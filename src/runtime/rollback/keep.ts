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
import { readControlWal } from '../../base/pg/controldata.js';
import { embedWal, linkedGen, removeGeneration, stoppedClusterWal, walMeta } from '../../base/wal/generation.js';
import { walOwner } from '../../base/wal/files.js';
import type { SnapshotWal } from '../../model/snapshot-meta.js';

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
  const wal = await keepOldWal(entry, crypt, runner, dest);
  await runner.run(['btrfs', 'property', 'set', '-ts', dest, 'ro', 'true']);
  faultPoint('rollback:keep-ro');
  const existing = await readMeta(paths, entry.preRollbackName).catch(() => undefined);
  if (existing) return existing;
  const meta = await preRollbackMeta(entry, crypt, runner, dest);
  if (wal && meta.postgres) meta.postgres.wal = wal;
  await writeMeta(paths, meta);
  return meta;
}

/**
 * With an outside WAL the replaced state's pg_wal is a link to its generation, which goes once the rollback
 * is done: before that, the state keeps in its own pg_wal what its cluster needs (stopped: from its last
 * checkpoint's REDO segment on), so the pre-rollback snapshot is whole and the undo works. Idempotent
 * (a real pg_wal is left alone; a half copy is made again).
 */
async function keepOldWal(entry: RollbackEntry, crypt: OpenCrypt, runner: Runner, dest: string): Promise<SnapshotWal | null> {
  const pg = crypt.config.postgres;
  if (!pg?.walDir || !entry.oldWalGen) return null;
  const pgdata = path.join(dest, pg.dir);
  if (!(await hasCluster(pgdata))) return null;
  const cw = await readControlWal(runner, pg.bin, pgdata, { uid: pg.uid, gid: pg.gid });
  const c = await embedWal({
    subvol: dest,
    pgDir: pg.dir,
    walDir: pg.walDir,
    gen: entry.oldWalGen,
    choose: stoppedClusterWal(cw),
    files: [],
    owner: walOwner(pg),
  });
  faultPoint('rollback:keep-wal');
  return walMeta(c, { restorePoint: null, timeline: cw.timeline, held: 'none', label: 'none' });
}

/** After the replaced state kept its WAL: its generation goes (by the journal's name, never the live one). */
export async function dropOldWal(entry: RollbackEntry, crypt: OpenCrypt): Promise<void> {
  const pg = crypt.config.postgres;
  if (!pg?.walDir || !entry.oldWalGen) return;
  if ((await linkedGen(crypt.paths.active, pg.dir, pg.walDir).catch(() => null)) === entry.oldWalGen) return;
  await removeGeneration(pg.walDir, entry.oldWalGen);
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

