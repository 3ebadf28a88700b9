// deinit (SPEC section 11): undo init for one crypt. What is there is read first (detectDeinit: is the
// registered filesystem mounted, does the database run from it, which scheduled units exist); the plan is
// pure (planDeinit): every step of what init made, in the order that lets each one succeed — the timers
// first (no snapshot starts meanwhile), the database, the mount, its persistence, the mount record,
// the data (only with --delete-data), the state directory, and the registry entry last. Every step checks
// before it acts, so the plan runs again after a crash and finishes what was left (the mark in the registry
// entry says a deinit is under way and what was consented to).
import path from 'node:path';
import type { Config, UnitOwner } from '../model/config.js';
import type { DeinitStep } from '../model/steps.js';
import { RefusedError } from '../base/errors.js';
import type { Runner } from '../base/runner.js';
import type { DeinitMark, RegistryEntry } from '../base/registry/store.js';
import { MOUNT_RECORD, pgdataPath } from '../base/crypt/paths.js';
import { isMountedCrypt } from '../base/crypt/open.js';
import { readPostmaster } from '../base/pg/postmaster.js';
import { userUnitDir } from '../base/systemctl.js';
import { exists } from '../base/sys/fs.js';
import { existingScheduleUnits } from '../install/detect/schedule-units.js';
import { mountAt } from '../install/detect/findmnt.js';
import { unitNameForPath } from '../install/render/index.js';

/** What deinit found on the host (it only reads). */
export interface DeinitFacts {
  /** The registered filesystem is mounted at the crypt path (a native crypt: its directory is there). */
  mounted: boolean;
  /** The database runs on the crypt's PGDATA (its postmaster.pid names a live server). */
  dbRunning: boolean;
  /** Scheduled units on disk: root's (persist.unitDir) and the owner's user units. */
  scheduleUnits: string[];
  userScheduleUnits: string[];
  systemdRunning: boolean;
}

export interface DeinitOptions {
  deleteData: boolean;
}

export async function detectDeinit(runner: Runner, entry: RegistryEntry): Promise<DeinitFacts> {
  const c = entry.config;
  const where = c.crypt.path;
  const mounted = c.method === 'native' ? await exists(where) : await isMountedCrypt(entry);
  // Something other than this crypt mounted there: deinit unmounts nothing it does not own.
  if (c.method !== 'native' && !mounted) {
    const there = await mountAt(runner, where).catch(() => null);
    if (there) {
      throw new RefusedError(`${where} has ${there.source} (${there.fstype}) mounted, not the registered crypt "${c.crypt.name}" (filesystem ${entry.identity.fsUuid}); nothing was changed`, {
        hint: `Unmount that yourself if it is in the way (findmnt ${where}), then run deinit again.`,
      });
    }
  }
  const pgdata = c.postgres && mounted ? pgdataPath(where, c.postgres.dir) : null;
  const pm = pgdata ? await readPostmaster(pgdata).catch(() => null) : null;
  return {
    mounted,
    dbRunning: Boolean(pm?.running),
    scheduleUnits: await existingScheduleUnits(c.persist.unitDir, where),
    userScheduleUnits: await existingScheduleUnits(userUnitDir(c.crypt.home), where),
    systemdRunning: await exists('/run/systemd/system'),
  };
}

/** Timers before their services, so nothing starts a service that is about to disappear. */
const timersFirst = (names: string[]): string[] => [...names].sort((a, b) => Number(b.endsWith('.timer')) - Number(a.endsWith('.timer')));

/** The steps, in order (pure). */
export function planDeinit(entry: RegistryEntry, facts: DeinitFacts, opts: DeinitOptions): DeinitStep[] {
  const c: Config = entry.config;
  const where = c.crypt.path;
  const steps: DeinitStep[] = [];
  const owner: UnitOwner = { name: c.crypt.user, uid: c.crypt.uid, gid: c.crypt.gid };
  const systemd = facts.systemdRunning;
  for (const unit of timersFirst(facts.scheduleUnits)) steps.push({ kind: 'remove-unit', path: path.join(c.persist.unitDir, unit), unit, systemd });
  for (const unit of timersFirst(facts.userScheduleUnits)) steps.push({ kind: 'remove-unit', path: path.join(userUnitDir(c.crypt.home), unit), unit, systemd, user: owner });
  if (c.postgres && facts.dbRunning) {
    steps.push({ kind: 'stop-database', pgdata: pgdataPath(where, c.postgres.dir), postgres: c.postgres, crypt: { user: c.crypt.user, logDir: path.join(entry.stateDir, 'postgres') } });
  }
  if (c.method !== 'native') {
    steps.push({ kind: 'unmount', path: where });
    // Both kinds of persistence: a crypt switched from one to the other leaves nothing of either behind.
    steps.push({ kind: 'remove-fstab-line', file: c.persist.fstab, where, reload: systemd });
    steps.push({ kind: 'remove-mount-unit', path: path.join(c.persist.unitDir, unitNameForPath(where)), unit: unitNameForPath(where), systemd });
    steps.push({ kind: 'remove-file', path: path.join(where, MOUNT_RECORD), why: 'the mount record init wrote underneath the mount' });
  }
  if (opts.deleteData) {
    if (c.method === 'loopback') steps.push({ kind: 'delete-data', method: 'loopback', image: c.loopback!.image });
    else if (c.method === 'partition') steps.push({ kind: 'delete-data', method: 'partition', device: c.partition!.device, fsUuid: entry.identity.fsUuid });
    else steps.push({ kind: 'delete-data', method: 'native', root: where, fsUuid: entry.identity.fsUuid, rootIno: entry.identity.rootIno });
  }
  steps.push({ kind: 'remove-state', path: entry.stateDir, owner: c.profile === 'rootless' ? owner : null });
  steps.push({ kind: 'unregister', dir: c.registry.dir, name: c.crypt.name, release: opts.deleteData ? null : c.registry.state });
  return steps;
}

/** What stays after the plan: the data, unless it is deleted, named where it is. */
export function keptData(c: Config, deleteData: boolean): string | null {
  // An outside WAL (docs/wal.md) is not undone by deinit: the live state's WAL is there, its pg_wal links to it.
  const wal = c.postgres?.walDir ? `; the live WAL in ${c.postgres.walDir} stays too (active/'s pg_wal links there${deleteData ? ': remove it by hand' : ': keep the two together'})` : '';
  if (deleteData) return wal ? wal.slice(2) : null;
  if (c.method === 'loopback') return `the image ${c.loopback!.image} and everything in it (snapshots included) stay${wal}`;
  if (c.method === 'partition') return `the Btrfs filesystem on ${c.partition!.device} and everything in it (snapshots included) stay${wal}`;
  return `the directory ${c.crypt.path} (active/, snapshots/) stays in place${wal}`;
}

/** The data deleted, named (what consent to --delete-data is asked for). */
export function deletedData(c: Config): string {
  if (c.method === 'loopback') return `the image ${c.loopback!.image}`;
  if (c.method === 'partition') return `the Btrfs filesystem on ${c.partition!.device}`;
  return `active/ and every snapshot in ${c.crypt.path}`;
}

/** The mark written into the entry before the first step. */
export const deinitMark = (id: string, opts: DeinitOptions, stopDatabase: boolean): DeinitMark => ({ id, startedAt: new Date().toISOString(), deleteData: opts.deleteData, stopDatabase });
