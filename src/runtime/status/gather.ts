// Everything `status` shows, read without the lock and without changing anything: mount, space, snapshots,
// the last runs, PostgreSQL, the timer. A crypt that is not mounted is a finding, not an error.
import type { Config, UnitOwner } from '../../model/config.js';
import type { Runner } from '../../base/runner.js';
import { exists } from '../../base/sys/fs.js';
import { pgdataPath, type CryptPaths } from '../../base/crypt/paths.js';
import { isMountPoint } from '../../base/sys/mountinfo.js';
import { readPostmaster } from '../../base/pg/postmaster.js';
import { timerName } from '../../install/render/schedule-names.js';
import { systemctlArgv } from '../../base/systemctl.js';
import { readSnapshotDir } from '../snapshots/meta.js';
import { newestFirst } from '../snapshots/order.js';
import { readRuns, type RunRecords } from './record.js';
import { floorBytes, measureSpace, usageNow, type SpaceFacts } from './space.js';
import type { FreeFloor } from '../../model/settings.js';
import { spaceTrend, type SpaceTrend, type UsagePoint } from './trend.js';
import type { SnapshotMeta } from '../../model/snapshot-meta.js';

/** Each snapshot's recorded usage, and now's: the trend's points. */
export function usagePoints(metas: SnapshotMeta[], now: Date, usedNow: number | null): UsagePoint[] {
  const pts = metas.flatMap((m) => (m.space ? [{ at: Date.parse(m.createdAt), usedBytes: m.space.usedBytes }] : []));
  if (usedNow !== null) pts.push({ at: now.getTime(), usedBytes: usedNow });
  return pts;
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
  timer: { unit: string; calendar: string; nextRun: string | null } | null;
  /** The verify timer, when schedule.verify is set. */
  verifyTimer?: { unit: string; calendar: string; nextRun: string | null } | null;
}

/** A rootless crypt's timers are its owner's user units (src/base/systemctl.ts). */
async function nextElapse(runner: Runner, unit: string, user: UnitOwner | undefined): Promise<string | null> {
  if (!(await exists('/run/systemd/system'))) return null;
  const r = await runner.run(systemctlArgv(user, 'show', '--property=NextElapseUSecRealtime', '--value', unit), { allowFailure: true });
  const v = r.exitCode === 0 ? r.stdout.trim() : '';
  const t = v && v !== 'n/a' ? Date.parse(v) : NaN;
  return Number.isNaN(t) ? (v || null) : new Date(t).toISOString();
}

/** `config` null: the crypt's configuration could not be read because it is not mounted. */
export async function gatherStatus(crypt: { shown: string; paths: CryptPaths; config: Config }, runner: Runner, now = new Date()): Promise<StatusFacts> {
  const root = crypt.shown;
  const { paths, config } = crypt;
  // From mountinfo, not findmnt: `status --check` runs from monitoring every few minutes and starts no process.
  const mounted = config.method === 'native' || (await isMountPoint(root));
  const base: StatusFacts = { crypt: root, at: now.toISOString(), mounted, space: null, floor: null, snapshots: null, runs: {}, postgres: null, timer: null };
  if (!mounted) return base;
  const space = await measureSpace(root, config);
  const used = await usageNow(root);
  const dir = await readSnapshotDir(paths).catch(() => null);
  const newest = dir ? newestFirst(dir.complete)[0] : undefined; // by time: names of one second sort by label
  const minFree = config.space?.minFree ?? null;
  const owner = config.profile === 'rootless' ? { name: config.crypt.user, uid: config.crypt.uid, gid: config.crypt.gid } : undefined;
  return {
    ...base,
    space,
    floor: minFree ? { minFree, bytes: floorBytes(minFree, space.sizeBytes) } : null,
    snapshots: dir ? { count: dir.complete.length, pinned: dir.complete.filter((m) => m.pinned).length, newest: newest ? { name: newest.name, createdAt: newest.createdAt } : null } : null,
    trend: dir ? spaceTrend(usagePoints(dir.complete, now, used?.usedBytes ?? null), now.getTime(), space.freeBytes, config) : null,
    runs: await readRuns(paths),
    postgres: config.postgres ? { running: (await readPostmaster(pgdataPath(paths.root, config.postgres.dir)).catch(() => ({ running: false }))).running } : null,
    timer: config.schedule ? { unit: timerName('snapshot', root), calendar: config.schedule.calendar, nextRun: await nextElapse(runner, timerName('snapshot', root), owner) } : null,
    verifyTimer:
      config.schedule && config.schedule.verify !== false
        ? { unit: timerName('verify', root), calendar: config.schedule.verify, nextRun: await nextElapse(runner, timerName('verify', root), owner) }
        : null,
  };
}
