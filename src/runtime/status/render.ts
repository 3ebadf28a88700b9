// `status` for people: one screen, one fact a line.
import { approxSize, formatAge } from '../../model/units.js';
import { formatFloor } from '../../model/settings.js';
import { formatTime } from '../../base/output/time.js';
import { painter, type Painter } from '../../base/output/style.js';
import type { StatusFacts } from './gather.js';
import { describeTrend } from './trend.js';
import type { RunRecord } from './record.js';
import { replicaRows } from '../replicate/status.js';

function ago(iso: string, now: Date): string {
  const ms = Math.max(0, now.getTime() - Date.parse(iso));
  return ms < 60_000 ? 'just now' : `${formatAge(Math.floor(ms / 60_000) * 60_000)} ago`;
}

function run(r: RunRecord | undefined, now: Date, paint: Painter): string {
  return r ? `${r.ok ? paint('green', 'ok') : paint('red', 'FAILED')} ${ago(r.at, now)} (${formatTime(r.at)}): ${r.summary}` : paint('yellow', 'never');
}

/** colour: only for a terminal (cli decides: NO_COLOR, FORCE_COLOR, pipes). */
export function renderStatus(f: StatusFacts, now: Date, colour = false): string {
  const paint = painter(colour);
  const rows: [string, string][] = [['crypt', f.crypt], ['mounted', f.mounted ? paint('green', 'yes') : paint('red', 'NO')]];
  if (f.identity) rows.push(['identity', paint(f.mounted ? 'yellow' : 'red', f.identity.detail)]);
  if (f.writable === 'forced-ro') rows.push(['writable', paint('red', 'NO — Btrfs forced it read-only after a write error')]);
  else if (f.writable === 'ro') rows.push(['writable', paint('red', 'NO — mounted read-only')]);
  if (f.deviceErrors?.length) rows.push(['errors', paint('red', f.deviceErrors.map((e) => `${e.device}: ${Object.entries(e.counters).map(([k, v]) => `${k} ${v}`).join(', ')}`).join('; '))]);
  const op = f.operation;
  if (op) {
    const what = `${op.op ?? 'an operation'}${op.phase ? ` (phase ${op.phase})` : ''}`;
    rows.push(['operation', op.state === 'running' ? paint('yellow', `${what} in progress, pid ${op.pid}`) : paint('red', `${what} INTERRUPTED, pending`)]);
  }
  if (f.leftovers) {
    const l = f.leftovers;
    rows.push(['leftovers', paint('red', [...l.incomplete.map((n) => `${n} (no metadata)`), ...l.orphanMeta.map((n) => `${n}.json (no snapshot)`), ...l.unreadableMeta.map((n) => `${n}.json (unusable)`)].join(', '))]);
  }
  if (f.space) {
    const pct = f.space.sizeBytes ? Math.round((100 * f.space.freeBytes) / f.space.sizeBytes) : 0;
    let free = `${approxSize(f.space.freeBytes)} free of ${approxSize(f.space.sizeBytes)} (${pct}%)${f.space.estimated ? ', estimated from sysfs' : ''}`;
    if (f.floor) free += `, floor ${formatFloor(f.floor.minFree)}${f.space.freeBytes < f.floor.bytes ? paint('red', ' — BELOW') : ''}`;
    rows.push(['space', free]);
    if (f.trend) rows.push(['trend', `${describeTrend(f.trend)}${f.trend.advice ? paint('yellow', ` — grow soon: ${f.trend.advice}`) : ''}`]);
    if (f.space.host && f.space.host.imageGrowthBytes > f.space.host.freeBytes) {
      rows.push(['host', `only ${approxSize(f.space.host.freeBytes)} free for ${approxSize(f.space.host.imageGrowthBytes)} the image may still grow`]);
    }
  }
  if (f.snapshots) {
    rows.push(['snapshots', `${f.snapshots.count}${f.snapshots.pinned ? ` (${f.snapshots.pinned} pinned)` : ''}`]);
    const n = f.snapshots.newest;
    rows.push(['newest', n ? `${n.name} (${ago(n.createdAt, now)}, ${formatTime(n.createdAt)})` : paint('yellow', 'none')]);
  }
  if (f.mounted) {
    const hidden = (what: string) => f.notVisible?.includes(what);
    if (hidden('last runs')) rows.push(['last runs', paint('yellow', 'not visible')]);
    else {
      rows.push(['last verify', run(f.runs.verify, now, paint)], ['last prune', run(f.runs.prune, now, paint)]);
      if (f.runs.scheduled || f.timer) rows.push(['last scheduled', run(f.runs.scheduled, now, paint)]);
    }
    rows.push(['postgresql', f.postgres ? (f.postgres.running ? paint('green', 'running') : paint('yellow', 'not running')) : hidden('postgresql') ? paint('yellow', 'not visible') : 'none configured']);
    const next = (t: NonNullable<StatusFacts['timer']>): string =>
      t.installed === false
        ? paint('yellow', `not installed (${t.calendar} is configured, but init installs timers only where systemd runs: use the cron lines it printed)`)
        : `${t.unit} (${t.calendar}), next ${t.nextRun ? formatTime(t.nextRun) : t.installed === null ? 'unknown (its unit is not visible to this user)' : 'unknown (systemd not running or timer not loaded)'}`;
    rows.push(['timer', f.timer ? next(f.timer) : 'no schedule configured']);
    if (f.verifyTimer) rows.push(['verify timer', next(f.verifyTimer)]);
  }
  rows.push(...replicaRows(f.replication ?? [], now));
  if (f.notVisible?.length) rows.push(['not visible', paint('yellow', `${f.notVisible.join(', ')} (this user may not read them; the crypt's owner or root sees them)`)]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
