// Everything `status` shows, read without the lock and without changing anything: mount (its identity and
// writability), device errors, an operation in progress or interrupted, leftovers, space, snapshots, the
// last runs, PostgreSQL, the timers. A crypt that is not mounted is a finding, not an error. What the caller
// may not read (a monitoring user, e.g. `nagios`, on the owner's files) is listed as not visible, never
// guessed: mountinfo, sysfs and the registry are readable by anyone, the rest maybe not.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config, UnitOwner } from '../../model/config.js';
import type { Runner } from '../../base/runner.js';
import { exists } from '../../base/sys/fs.js';
import { pgdataPath, type CryptPaths } from '../../base/crypt/paths.js';
import { readPostmaster } from '../../base/pg/postmaster.js';
import { readJournal } from '../../base/crypt/journal.js';
import { lockHolder } from '../../base/crypt/lock-holder.js';
import { readDeviceErrorsSysfs, readWritability, type DeviceErrors } from '../../base/btrfs/fs-state.js';
import { describeHolders, identifyMount, type FsIdentity } from '../../base/btrfs/fs-identity.js';
import { timerName } from '../../install/render/schedule-names.js';
import { systemctlArgv, userUnitDir } from '../../base/systemctl.js';
import { readSnapshotDir } from '../snapshots/meta.js';
import { newestFirst } from '../snapshots/order.js';
import { readRuns, type RunRecords } from './record.js';
import { floorBytes, measureSpace, usageNow, type SpaceFacts } from './space.js';
import { measureSpaceSysfs } from './sysfs-space.js';
import type { FreeFloor } from '../../model/settings.js';
import { gatherReplication, type ReplicaFacts } from '../replicate/status.js';
import { spaceTrend, type SpaceTrend, type UsagePoint } from './trend.js';
import type { SnapshotMeta } from '../../model/snapshot-meta.js';

/** Each snapshot's recorded usage, and now's: the trend's points. */
export function usagePoints(metas: SnapshotMeta[], now: Date, usedNow: number | null): UsagePoint[] {
  const pts = metas.flatMap((m) => (m.space ? [{ at: Date.parse(m.createdAt), usedBytes: m.space.usedBytes }] : []));
  if (usedNow !== null) pts.push({ at: now.getTime(), usedBytes: usedNow });
  return pts;
}

export interface TimerFacts {
  unit: string;
  calendar: string;
  nextRun: string | null;
  /** The unit file init writes is there (false: init installed no timer, e.g. systemd was not running; null: not visible). */
  installed?: boolean | null;
}

export interface StatusFacts {
  crypt: string;
  /** ISO time the facts were read. */
  at: string;
  mounted: boolean;
  space: SpaceFacts | null;
  floor: { minFree: FreeFloor; bytes: number } | null;
  snapshots: { count: number; pinned: number; newest: { name: string; createdAt: string } | null } | null;
  /** The free-space trend from the usage the snapshots recorded (null: too little history); absent while unmounted. */
  trend?: SpaceTrend | null;
  runs: RunRecords;
  /** null: no database configured. */
  postgres: { running: boolean } | null;
  /** null: no schedule configured. nextRun null: systemd cannot say (not running, or the timer is not loaded). */
  timer: TimerFacts | null;
  /** The verify timer, when schedule.verify is set. */
  verifyTimer?: TimerFacts | null;
  /** Whether the crypt accepts writes (as doctor's mount.writable); null while not mounted. */
  writable?: 'rw' | 'ro' | 'forced-ro' | 'unknown' | null;
  /** The mounted filesystem against the registered UUID (as doctor's mount.identity), when it is not simply the registered one. */
  identity?: { kind: FsIdentity['kind']; detail: string } | null;
  /** Non-zero Btrfs error counters of the crypt's devices (as doctor's mount.errors). */
  deviceErrors?: DeviceErrors[] | null;
  /** running: a command holds the lock; interrupted: the journal holds an operation nobody runs (repair or the next command finishes it). */
  operation?: { state: 'running' | 'interrupted'; op: string | null; phase: string | null; pid: number | null } | null;
  /** What doctor reports as snapshots.incomplete: half-made snapshots, metadata without its snapshot, unusable metadata. */
  leftovers?: { incomplete: string[]; orphanMeta: string[]; unreadableMeta: string[] } | null;
  /** Facts this caller may not read (e.g. a monitoring user and the owner's files): not guessed, not judged. */
  notVisible?: string[];
  /** Off-host copies per target, from the last replication's record (runtime/replicate/status.ts); [] when none configured. */
  replication?: ReplicaFacts[];
}

/** A crypt as status reads it: its definition, paths and (from the registry) identity. */
export interface StatusCrypt {
  shown: string;
  paths: CryptPaths;
  config: Config;
  /** The registered filesystem UUID (absent for a crypt opened without its registry entry). */
  fsUuid?: string;
}

/** fn's result, or null when the caller may not read it (named in `hidden`). */
async function visible<T>(what: string, hidden: string[], fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || /permission denied|EACCES/i.test(String((e as Error).message))) {
      if (!hidden.includes(what)) hidden.push(what);
      return null;
    }
    throw e;
  }
}

/** Whether a file exists; a caller that may not look throws (EACCES). */
const present = (p: string): Promise<boolean> => stat(p).then(() => true, (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? false : Promise.reject(e)));

/** A rootless crypt's timers are its owner's user units (src/base/systemctl.ts). */
async function nextElapse(runner: Runner, unit: string, user: UnitOwner | undefined): Promise<string | null> {
  if (!(await exists('/run/systemd/system'))) return null;
  const r = await runner.run(systemctlArgv(user, 'show', '--property=NextElapseUSecRealtime', '--value', unit), { allowFailure: true });
  const v = r.exitCode === 0 ? r.stdout.trim() : '';
  const t = v && v !== 'n/a' ? Date.parse(v) : NaN;
  return Number.isNaN(t) ? (v || null) : new Date(t).toISOString();
}

/** The timers init installed (their unit files), not only the ones the configuration asks for. */
async function timers(crypt: StatusCrypt, runner: Runner, hidden: string[]): Promise<Pick<StatusFacts, 'timer' | 'verifyTimer'>> {
  const { config, shown } = crypt;
  if (!config.schedule) return { timer: null, verifyTimer: null };
  const owner = config.profile === 'rootless' ? { name: config.crypt.user, uid: config.crypt.uid, gid: config.crypt.gid } : undefined;
  const dir = owner ? userUnitDir(config.crypt.home) : config.persist.unitDir;
  const one = async (job: 'snapshot' | 'verify', calendar: string): Promise<TimerFacts> => {
    const unit = timerName(job, shown);
    const installed = await visible('timers', hidden, () => present(path.join(dir, unit)));
    return { unit, calendar, nextRun: installed === false ? null : await nextElapse(runner, unit, owner), installed };
  };
  return {
    timer: await one('snapshot', config.schedule.calendar),
    verifyTimer: config.schedule.verify !== false ? await one('verify', config.schedule.verify) : null,
  };
}

/** An operation in progress (the lock held by another process) or interrupted (a journal entry nobody runs). */
async function operation(paths: CryptPaths, runner: Runner, hidden: string[]): Promise<StatusFacts['operation']> {
  const lock = await visible('operations', hidden, () => present(paths.lock));
  const holder = lock ? await lockHolder(runner, paths.lock) : null;
  const pending = await visible('operations', hidden, () => present(paths.journal));
  if (!holder && !pending) return null;
  // The journal is the crypt user's own file: a monitoring user sees that there is one, not what it says.
  const entry = pending ? await readJournal(paths).catch(() => undefined) : undefined;
  return { state: holder ? 'running' : 'interrupted', op: entry?.op ?? null, phase: entry?.phase ?? null, pid: holder ?? null };
}

function identityFacts(id: FsIdentity | null): StatusFacts['identity'] {
  if (!id || id.kind === 'as-registered' || id.kind === 'none') return null;
  if (id.kind === 'unknown') return { kind: id.kind, detail: id.why };
  if (id.kind === 'temp-fsid') {
    if (id.registeredSource && !id.holders.length) return { kind: id.kind, detail: `mounted under the temporary fsid ${id.fsid}, not its UUID ${id.uuid} (the copy that held it is gone)` };
    return id.registeredSource
      ? { kind: id.kind, detail: `mounted under the temporary fsid ${id.fsid}: ${describeHolders(id.uuid, id.holders)}` }
      : { kind: id.kind, detail: `a byte copy from ${id.source} is mounted there, not the crypt` };
  }
  return { kind: id.kind, detail: `another filesystem (UUID ${id.uuid}, from ${id.source}) is mounted there, not the crypt (${id.registered})` };
}

export async function gatherStatus(crypt: StatusCrypt, runner: Runner, now = new Date()): Promise<StatusFacts> {
  const root = crypt.shown;
  const { paths, config } = crypt;
  const hidden: string[] = [];
  // From mountinfo and sysfs, not findmnt: `status --check` runs from monitoring every few minutes and
  // starts no process; the registered UUID and source say whether what is mounted is the crypt.
  const native = config.method === 'native';
  const id = !native && crypt.fsUuid ? await identifyMount(config, crypt.fsUuid, root) : null;
  const mounted = native || (id !== null && (id.kind === 'as-registered' || (id.kind === 'temp-fsid' && id.registeredSource)));
  const replication = await gatherReplication(config).catch(() => []);
  const base: StatusFacts = { crypt: root, at: now.toISOString(), mounted, space: null, floor: null, snapshots: null, runs: {}, postgres: null, timer: null, identity: identityFacts(id), replication };
  if (!mounted) return { ...base, ...(await timers(crypt, runner, hidden)), notVisible: hidden };
  const fsid = id && id.kind !== 'unknown' && id.kind !== 'none' ? id.fsid : null;
  const w = await readWritability(runner, root, native ? '--target' : '--mountpoint');
  // A caller that may not statfs the path gets the estimate from sysfs.
  const space = (await visible('space', [], () => measureSpace(root, config))) ?? (fsid ? await measureSpaceSysfs(fsid, config) : null);
  if (!space) hidden.push('space');
  const dir = await visible('snapshots', hidden, () => readSnapshotDir(paths));
  // What each snapshot recorded and what is used now: the free-space trend (statfs; nothing when hidden).
  const used = space ? await usageNow(root) : null;
  const newest = dir ? newestFirst(dir.complete)[0] : undefined; // by time: names of one second sort by label
  const minFree = config.space?.minFree ?? null;
  const runs = (await visible('last runs', hidden, () => readRuns(paths, { strict: true }))) ?? {};
  const op = await operation(paths, runner, hidden);
  const postgres = config.postgres ? await visible('postgresql', hidden, async () => ({ running: (await readPostmaster(pgdataPath(paths.root, config.postgres!.dir))).running })) : null;
  return {
    ...base,
    space,
    floor: minFree && space ? { minFree, bytes: floorBytes(minFree, space.sizeBytes) } : null,
    snapshots: dir ? { count: dir.complete.length, pinned: dir.complete.filter((m) => m.pinned).length, newest: newest ? { name: newest.name, createdAt: newest.createdAt } : null } : null,
    trend: dir && space ? spaceTrend(usagePoints(dir.complete, now, used?.usedBytes ?? null), now.getTime(), space.freeBytes, config) : null,
    runs,
    postgres,
    ...(await timers(crypt, runner, hidden)),
    writable: w.kind,
    deviceErrors: fsid ? await readDeviceErrorsSysfs(fsid).catch(() => null) : null,
    operation: op,
    // Half-made snapshots belong to the operation in progress (or interrupted) until it ends, as doctor says.
    leftovers: !op && dir && (dir.incomplete.length || dir.orphanMeta.length || dir.unreadableMeta?.length) ? { incomplete: dir.incomplete, orphanMeta: dir.orphanMeta, unreadableMeta: dir.unreadableMeta ?? [] } : null,
    notVisible: hidden,
  };
}
