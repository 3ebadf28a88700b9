// The rollback itself: journal first, stop the database, stage a writable clone of the target, swap it
// with active/ in one renameat2(RENAME_EXCHANGE), keep the replaced state as a snapshot, start the
// database. Every step after the journal is followed by a fault point for the crash tests.
import { CryptError } from '../../base/errors.js';
import { faultPoint } from '../../base/fault.js';
import type { OpenCrypt } from '../../base/crypt/open.js';
import { pgdataPath, stagingPath, STAGING_PREFIX } from '../../base/crypt/paths.js';
import { exchangePaths } from '../../base/sys/libc.js';
import { fsyncDir } from '../../base/sys/fs.js';
import { isSubvolume, listNestedSubvolumes } from '../../base/btrfs/probe.js';
import { subvolumeDelete, subvolumeShow, subvolumeSnapshot } from '../../base/btrfs/subvolume.js';
import { readPostmaster } from '../../base/pg/postmaster.js';
import { clearJournal, writeJournal, type JournalEntry } from '../../base/crypt/journal.js';
import { startDatabase, stopDatabase, serviceOwner } from '../service/control.js';
import { waitForPrimary } from '../service/ready.js';
import { snapshotPath } from '../snapshots/meta.js';
import { baseName, uniqueName } from '../snapshots/names.js';
import { takenNames } from '../snapshots/taken.js';
import { dropOldWal, keepReplacedState } from './keep.js';
import { lockClone, prepareStagingOp, prepareStagingPgdata, staleFilesFor } from './staging.js';
import { readMeta } from '../snapshots/meta.js';
import { fillGeneration, genPath, linkedGen } from '../../base/wal/generation.js';
import { genName } from '../../base/wal/placement.js';
import { walOwner } from '../../base/wal/files.js';
import { onTree } from '../../base/userns/tree.js';
import { mapArgv } from '../restore/ids.js';
import type { RollbackPlan } from './steps.js';
import { describeRollbackSteps } from './steps.js';
import path from 'node:path';
import { randomHex } from '../../base/ids.js';
import { Phases } from '../../base/phases.js';
import { showing, type OpContext } from '../../base/context.js';

/** A rollback's journal entry: a plain one, or a guarded run's (which carries the run's intent). */
export type RollbackEntry = Extract<JournalEntry, { op: 'rollback' | 'run-rollback' }>;

export interface RollbackResult {
  target: string;
  preRollback: string;
  databaseRestarted: boolean;
  /** Milliseconds from starting PostgreSQL until it accepted connections out of recovery. */
  recoveryMs: number | null;
  timings: Record<string, number>;
}

export async function planRollback(crypt: OpenCrypt, target: string, now = new Date()): Promise<RollbackPlan> {
  const { paths, config } = crypt;
  const id = now.toISOString().replace(/[-:.]/g, '').slice(0, 15) + 'Z-' + randomHex(4);
  const taken = await takenNames(paths.snapshots);
  const preRollbackName = uniqueName(baseName(now, 'pre-rollback'), (n) => taken.has(n));
  const pgdata = config.postgres ? pgdataPath(paths.root, config.postgres.dir) : null;
  const dbRunning = pgdata ? (await readPostmaster(pgdata)).running : false;
  const base = { target, preRollbackName, staging: stagingPath(paths.root, `rollback-${id}`), active: paths.active, dbRunning };
  return { ...base, steps: describeRollbackSteps(config, base) };
}

export async function refuseNested(crypt: OpenCrypt, ctx: OpContext): Promise<void> {
  const nested = await listNestedSubvolumes(crypt.paths.active, ctx.runner);
  if (nested.length) {
    throw new CryptError(
      `active/ holds nested ${nested.map((n) => `${n.kind} ${n.path}`).join(', ')}: a rollback would make it vanish (snapshots stop at subvolume and mount boundaries). Nothing was changed`,
      { hint: 'Move that data into active/ as plain directories (or unmount it), then roll back.' },
    );
  }
}

export async function performRollback(crypt: OpenCrypt, ctx: OpContext, plan: RollbackPlan): Promise<RollbackResult> {
  const { paths, config } = crypt;
  const pg = config.postgres;
  const pgdata = pg ? pgdataPath(paths.root, pg.dir) : null;
  const phases = new Phases();
  const timed = <T>(phase: string, fn: () => Promise<T>): Promise<T> => phases.run(phase, fn);
  const fields = {
    id: path.basename(plan.staging).slice(STAGING_PREFIX.length),
    startedAt: new Date().toISOString(),
    target: plan.target,
    staging: path.basename(plan.staging),
    preRollbackName: plan.preRollbackName,
    phase: 'started',
    wasRunning: pgdata ? (await readPostmaster(pgdata)).running : false,
    stagedUuid: null,
    // With an outside WAL: the generation the replaced state uses (it stays until that state has kept its WAL).
    ...(pg?.walDir ? { oldWalGen: await linkedGen(paths.active, pg.dir, pg.walDir).catch(() => null) } : {}),
  };
  const entry: RollbackEntry = plan.intent ? { op: 'run-rollback', ...fields, run: plan.intent } : { op: 'rollback', ...fields };
  await writeJournal(paths, entry);
  faultPoint('rollback:journal');

  // A plain rollback that fails before the swap is given up (nothing changed). A guarded run's is not: its
  // entry stays, so the next command (or repair) tries again until the crypt is back at the "before" state.
  const giveUp = () => (entry.op === 'rollback' ? clearJournal(paths) : Promise.resolve());
  let stopped: boolean;
  try {
    stopped = await timed('stop', () => (pgdata ? showing(ctx, 'stopping PostgreSQL', () => stopDatabase(ctx.runner, pg, pgdata, serviceOwner(crypt))) : Promise.resolve(false)));
  } catch (e) {
    await giveUp(); // nothing was changed
    throw e;
  }
  faultPoint('rollback:stop');

  // Until the swap, every failure is undone here: remove the staging copy, restart a database we stopped.
  const undo = async (e: unknown): Promise<never> => {
    if (await isSubvolume(plan.staging)) await subvolumeDelete(ctx.runner, plan.staging).catch(() => {});
    if (stopped && pg && pgdata) await startDatabase(ctx.runner, pg, pgdata, serviceOwner(crypt)).catch(() => {});
    await giveUp();
    throw e;
  };
  try {
    await timed('stage', async () => {
      await subvolumeSnapshot(snapshotPath(paths, plan.target), plan.staging, { readonly: false });
      faultPoint('rollback:stage');
      const meta = pg ? await readMeta(paths, plan.target).catch(() => undefined) : undefined;
      const prep = { restored: plan.restored === true, stale: staleFilesFor(meta) };
      if (plan.owners) {
        // A restore from another host (never a container's cluster): this host's owners, inside the locked
        // clone (its top after the lock).
        const clone = await lockClone(plan.staging);
        try {
          for (const argv of mapArgv(`${clone.dir.anchor}/.`, plan.owners, true)) await ctx.runner.run(argv);
          if (pg) await prepareStagingPgdata(clone.dir, pg, prep);
        } finally {
          await clone.release();
        }
        for (const argv of mapArgv(plan.staging, plan.owners, false)) await ctx.runner.run(argv);
        faultPoint('rollback:clean');
      } else if (pg) {
        await onTree(plan.staging, ctx.runner, prepareStagingOp, plan.staging, pg, prep);
        faultPoint('rollback:clean');
      }
      entry.stagedUuid = (await subvolumeShow(ctx.runner, plan.staging)).uuid;
      entry.phase = 'staged';
      await writeJournal(paths, entry);
    });
    faultPoint('rollback:prepare');
    if (pg?.walDir && entry.stagedUuid) {
      // The restored state's own WAL generation, filled only from the snapshot: a restore must never see the
      // WAL of another history (recovery would replay the newer WAL and silently undo the rollback).
      const walDir = pg.walDir;
      const uuid = entry.stagedUuid;
      await timed('wal-fill', () =>
        showing(ctx, 'filling the restored state\'s own WAL directory from the snapshot', () =>
          fillGeneration({ subvol: plan.staging, pgDir: pg.dir, walDir, gen: genName(uuid), target: genPath(walDir, uuid), owner: walOwner(pg) }),
        ),
      );
      faultPoint('rollback:wal-fill');
      entry.phase = 'wal-filled';
      await writeJournal(paths, entry);
    }
    // A service that restarts the server on its own (e.g. systemd Restart=) would have it running on
    // files about to be swapped away under it: check right before the point of no return.
    if (pgdata) {
      const pm = await readPostmaster(pgdata);
      if (pm.running) {
        throw new CryptError(`PostgreSQL (pid ${pm.pid}) is running again on ${pgdata} although it was stopped; nothing was changed`, {
          hint: 'Something restarted it (a service with automatic restart?): stop that, then roll back again.',
        });
      }
    }
    // renameat2 either swaps or changes nothing, so a failure here is undone like the ones before.
    await timed('swap', async () => {
      await exchangePaths(plan.staging, paths.active);
      await fsyncDir(paths.root); // the exchange is durable before the journal says it happened
    });
  } catch (e) {
    await undo(e);
  }
  faultPoint('rollback:swap');
  entry.phase = 'swapped';
  await writeJournal(paths, entry);
  faultPoint('rollback:swapped');

  await timed('keep', () => keepReplacedState(entry, crypt, ctx.runner));
  faultPoint('rollback:keep');
  entry.phase = 'kept';
  await writeJournal(paths, entry);
  await timed('wal-drop', () => dropOldWal(entry, crypt));
  faultPoint('rollback:wal-drop');

  let recoveryMs: number | null = null;
  if (entry.wasRunning && pg && pgdata) {
    try {
      await timed('start', () => showing(ctx, 'starting PostgreSQL', () => startDatabase(ctx.runner, pg, pgdata, serviceOwner(crypt))));
      faultPoint('rollback:start');
      await timed('recovery', () => showing(ctx, 'PostgreSQL replays its WAL (crash recovery) until it accepts connections', () => waitForPrimary(pg, ctx.env)));
    } catch (e) {
      // The files are whole and the replaced state is kept: the rollback is done, only the database is
      // not up. Clearing the journal keeps every command (the undo above all) usable.
      await clearJournal(paths);
      throw new CryptError(`rolled back to ${plan.target}, but PostgreSQL did not come up: ${(e as Error).message}`, {
        hint: `The previous state is snapshot ${plan.preRollbackName}; undo with \`lychd-crypt rollback ${plan.preRollbackName}\` (then start the database), or look at the server log.`,
        cause: e,
      });
    }
    // pg_ctl -w returns once crash recovery is done; other services may return earlier: count both.
    recoveryMs = Math.round((phases.timings.start ?? 0) + (phases.timings.recovery ?? 0));
  }
  await clearJournal(paths);
  faultPoint('rollback:done');
  const timings = { ...phases.timings, total: phases.total() };
  return { target: plan.target, preRollback: plan.preRollbackName, databaseRestarted: entry.wasRunning, recoveryMs, timings };
}
