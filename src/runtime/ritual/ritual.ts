// The Ritual: Quiesce -> Snap -> Resume on ONE PostgreSQL session (SPEC section 5). Preflight, CHECKPOINT,
// non-exclusive backup mode, a read-only Btrfs snapshot of active/, backup stop in a finally on the same
// session, then the metadata — last and atomically. A snapshot that has no metadata is incomplete: if
// anything fails in between, it is deleted here; if the process dies, the journal lets the next mutating
// command (or repair) delete it, and the server aborts backup mode itself when our session drops.
import { showing, type OpContext } from '../../base/context.js';
import { CryptError } from '../../base/errors.js';
import { failPoint, faultPoint } from '../../base/fault.js';
import { randomUuid } from '../../base/ids.js';
import type { OpenCrypt } from '../../base/crypt/open.js';
import { pgdataPath } from '../../base/crypt/paths.js';
import { subvolumeDelete, subvolumeShow, subvolumeSnapshot } from '../../base/btrfs/subvolume.js';
import { clearJournal, writeJournal } from '../../base/crypt/journal.js';
import { snapshotPath, writeMeta, type SnapshotMeta, type SnapshotMode } from '../snapshots/meta.js';
import { baseName, uniqueName } from '../snapshots/names.js';
import { takenNames } from '../snapshots/taken.js';
import { readPostmaster } from '../../base/pg/postmaster.js';
import { buildMeta } from './metadata.js';
import { usageNow } from '../status/space.js';
import { preflight, type Preflight } from './preflight.js';
import { Phases } from '../../base/phases.js';
import path from 'node:path';
import type { BackupStop } from './session.js';
import type { SnapshotWal } from '../../model/snapshot-meta.js';
import { readControlWal } from '../../base/pg/controldata.js';
import { embedWal, stoppedClusterWal, walMeta } from '../../base/wal/generation.js';
import { walOwner } from '../../base/wal/files.js';
import { backupSegments, parseLsn } from '../../base/wal/segments.js';

export interface RitualOptions {
  label: string | null;
  mode?: SnapshotMode;
  /** Pinned from the start (`snapshot --pin`), in the one metadata write. */
  pinned?: boolean;
  /** Injectable clock for names (tests); defaults to now. */
  now?: () => Date;
}

export async function performRitual(crypt: OpenCrypt, ctx: OpContext, opts: RitualOptions): Promise<SnapshotMeta> {
  const phases = new Phases();
  const onNotice = (m: string): void => (/^(WARNING|ERROR)/.test(m) ? ctx.log.warn(m) : ctx.log.info(`postgres: ${m}`));
  const pre = await phases.run('preflight', () => preflight(crypt, ctx, opts.mode, onNotice));
  const { session } = pre;

  try {
    return await snapAndRecord(crypt, ctx, opts, phases, pre);
  } finally {
    await session?.close();
  }
}

async function snapAndRecord(crypt: OpenCrypt, ctx: OpContext, opts: RitualOptions, phases: Phases, pre: Preflight): Promise<SnapshotMeta> {
  const { paths, config } = crypt;
  const pg = config.postgres;
  const { mode, session, facts, cold } = pre;
  const walGen = pg?.walDir ? (pre.walGen ?? null) : null;
  const startedAt = (opts.now ?? (() => new Date()))();
  const taken = await takenNames(paths.snapshots);
  const name = uniqueName(baseName(startedAt, opts.label), (n) => taken.has(n));
  const target = snapshotPath(paths, name);
  const id = randomUuid();
  const slotName = `lychd_crypt_${id.replace(/-/g, '_')}`;
  let slotHeld = false;
  let snapshotMade = false;
  let createdAt = startedAt;
  let startLsn: string | null = null;
  let stop: BackupStop | null = null;
  let btrfs: SnapshotMeta['btrfs'] = null;
  let wal: SnapshotWal | null = null;
  // With an outside WAL the snapshot is taken writable, gets its own copy of the WAL, then is made read-only.
  const snapOpts = { readonly: !walGen };

  // The journal names the snapshot before it exists, so a crash leaves a trail to the half snapshot.
  await writeJournal(paths, { op: 'snapshot', id, startedAt: startedAt.toISOString(), name, phase: 'started' });
  try {
    if (session && facts && (mode === 'bracket' || mode === 'checkpoint' || mode === 'instant')) {
      const s = session;
      const v = facts.versionNum;
      // 2. CHECKPOINT first, so the backup-mode checkpoint (and recovery of the snapshot) has little to do.
      // Without the right to CHECKPOINT (PostgreSQL <= 14 non-superusers) bracket mode still works: the
      // backup start's own fast checkpoint does the same job, only inside backup mode.
      // `instant` skips it and backup mode: the atomic snapshot alone is crash-consistent (data and WAL of
      // one instant), live clients see no checkpoint dip, and a rollback replays more WAL instead.
      if (mode !== 'instant') {
        if (facts.canCheckpoint) await showing(ctx, 'CHECKPOINT: writing the changed pages to disk', () => phases.run('checkpoint', () => s.checkpoint()));
        else ctx.log.info('skipping the separate CHECKPOINT (the connection user may not run it); the backup start checkpoints');
      }
      if (walGen) {
        const held = await phases.run('slot', () => s.holdWal(slotName));
        if (held === true) slotHeld = true;
        else ctx.log.warn(`the WAL is not held while the snapshot is taken (${held}); a busy server may remove a segment before it is copied, and the snapshot then fails. Grant the connection role REPLICATION (ALTER ROLE … REPLICATION) to hold it.`);
      }
      if (mode === 'bracket') {
        startLsn = await showing(ctx, 'starting backup mode (PostgreSQL checkpoints first)', () => phases.run('backup-start', () => s.backupStart(v, `lychd-crypt ${name}`)));
        faultPoint('snapshot:after-backup-start');
      } else if (!facts.inRecovery) {
        startLsn = (await s.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn'))[0]!.lsn;
      }
      let failure: unknown;
      try {
        // 3. The snapshot: data and WAL of one instant.
        createdAt = new Date();
        await phases.run('snapshot', () => subvolumeSnapshot(paths.active, target, snapOpts));
        snapshotMade = true;
        faultPoint('snapshot:after-snap');
      } catch (e) {
        failure = e;
        throw e;
      } finally {
        // 4. Resume: always end backup mode on the same session, also when the snapshot failed.
        if (mode === 'bracket') {
          try {
            stop = await phases.run('backup-stop', () => s.backupStop(v));
          } catch (e) {
            if (failure === undefined) throw e;
            ctx.log.warn(`ending backup mode failed too (the server ends it when the session closes): ${(e as Error).message}`);
          }
        } else if (!facts.inRecovery && failure === undefined) {
          stop = { lsn: (await s.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn'))[0]!.lsn, labelfile: '' };
        }
      }
      if (walGen && pg?.walDir && stop && startLsn) {
        // The segments from the backup's start to its stop (pg_backup_stop has switched past the stop
        // segment: it is complete), checked, with backup_label: the snapshot restores to the stop LSN alone.
        const b = stop;
        const segSize = await s.walSegmentSize();
        const tli = Number(/^START TIMELINE: (\d+)$/m.exec(b.labelfile)?.[1] ?? 0);
        const segments = backupSegments(parseLsn(startLsn), parseLsn(b.lsn), tli, segSize);
        const files = [{ name: 'backup_label', text: b.labelfile }, ...(b.spcmapfile ? [{ name: 'tablespace_map', text: b.spcmapfile }] : [])];
        const copied = await showing(ctx, 'copying the backup\'s WAL into the snapshot', () =>
          phases.run('wal-copy', () => embedWal({ subvol: target, pgDir: pg.dir, walDir: pg.walDir!, gen: walGen, choose: { segments, check: { segSize, sysid: facts.systemIdentifier, upTo: parseLsn(b.lsn) } }, files, owner: walOwner(pg) })),
        );
        faultPoint('snapshot:after-wal-copy');
        if (slotHeld) await s.releaseWal(slotName).catch((e: Error) => ctx.log.warn(`dropping the temporary slot ${slotName} failed (the server drops it when the session ends): ${e.message}`));
        wal = walMeta(copied, { restorePoint: b.lsn, timeline: tli, held: slotHeld ? 'slot' : 'none', label: 'own' });
      }
    } else {
      createdAt = new Date();
      await phases.run('snapshot', () => subvolumeSnapshot(paths.active, target, snapOpts));
      snapshotMade = true;
      faultPoint('snapshot:after-snap');
      if (walGen && pg?.walDir) {
        // A stopped cluster needs its last checkpoint's WAL on: from the REDO segment while written.
        const pgWal = pg;
        const cw = await readControlWal(ctx.runner, pgWal.bin, path.join(target, pgWal.dir), { uid: pgWal.uid, gid: pgWal.gid });
        const copied = await phases.run('wal-copy', () =>
          embedWal({ subvol: target, pgDir: pgWal.dir, walDir: pgWal.walDir!, gen: walGen, choose: stoppedClusterWal(cw), files: [], owner: walOwner(pgWal) }),
        );
        faultPoint('snapshot:after-wal-copy');
        wal = walMeta(copied, { restorePoint: null, timeline: cw.timeline, held: 'none', label: 'none' });
      }
      if (mode === 'cold' && pg) {
        // The lock keeps other lychd-crypt commands out, not the database service: if the server came up
        // while we snapshotted, the files were not at rest and "cold" would be a lie.
        const after = await readPostmaster(pgdataPath(paths.root, pg.dir));
        if (after.running) throw new CryptError(`PostgreSQL started (PID ${after.pid}) while the cold snapshot was taken`, { hint: 'Run `lychd-crypt snapshot` again; it will take an online (bracket) snapshot.' });
      }
    }

    if (walGen) {
      if (!wal) throw new CryptError('the WAL the snapshot needs was not copied into it (the live WAL is outside the crypt)');
      await phases.run('seal', () => ctx.runner.run(['btrfs', 'property', 'set', '-ts', target, 'ro', 'true']));
      faultPoint('snapshot:after-seal');
    }

    // 5. Metadata, last and atomically.
    const meta = await phases.run('metadata', async () => {
      failPoint('snapshot:metadata');
      const info = await subvolumeShow(ctx.runner, target);
      btrfs = { uuid: info.uuid, generation: info.generation };
      const m = buildMeta({ name, label: opts.label, createdAt, mode, hasDatabase: Boolean(pg), facts, cold, startLsn, stop, btrfs, wal });
      faultPoint('snapshot:before-metadata');
      return m;
    });
    meta.timings = { ...phases.timings, total: phases.total() };
    meta.space = await usageNow(paths.root);
    if (opts.pinned) meta.pinned = true;
    await writeMeta(paths, meta);
    faultPoint('snapshot:after-metadata');
    await clearJournal(paths);
    return meta;
  } catch (e) {
    if (snapshotMade) {
      try {
        await subvolumeDelete(ctx.runner, target);
      } catch (del) {
        // The journal stays: the next mutating command (or repair) removes the half snapshot.
        throw new CryptError(`snapshot failed: ${(e as Error).message}; removing the incomplete snapshot ${name} failed too: ${(del as Error).message}`, {
          cause: e,
          hint: 'Run `lychd-crypt repair` to remove it; nothing else was changed.',
        });
      }
    }
    await clearJournal(paths);
    // Failures here are exit 1 (only preflight refuses or rejects input); say what is left: nothing.
    throw new CryptError(`snapshot failed: ${(e as Error).message}\nNo snapshot was kept; active/ is untouched.`, {
      cause: e,
      hint: e instanceof CryptError ? e.hint : undefined,
    });
  }
}
