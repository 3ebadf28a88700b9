// `status --check`: the Nagios plugin convention (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) and one line of
// output with performance data, as sanoid's --monitor-snapshots does; plain `status` exits 1 on the same
// findings and prints each with its fix. Pure. It says what doctor says of the same facts:
//   not mounted (or not the registered filesystem), read-only, forced read-only: CRITICAL;
//   age:   newest snapshot older than maxAge: WARNING; older than twice that, or no snapshot: CRITICAL;
//   space: usable free space below minFree: WARNING; below half of it: CRITICAL;
//   an interrupted operation pending, leftovers of one, Btrfs device errors, a temporary fsid, the last
//   verify or scheduled run failed: WARNING. An operation in progress is a fact, not a problem.
// What the caller may not read (a monitoring user) is named, never judged.
import { floorBytes } from './space.js';
import type { StatusFacts } from './gather.js';
import { approxSize, formatAge } from '../../model/units.js';
import type { FreeFloor } from '../../model/settings.js';

const NAMES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;

export interface CheckThresholds {
  maxAgeMs: number;
  minFree: FreeFloor;
}

/** One problem: how bad, what, and what fixes it. */
export interface StatusFinding {
  state: 1 | 2;
  what: string;
  fix: string;
}

export interface CheckResult {
  state: 0 | 1 | 2 | 3;
  line: string;
  problems: string[];
  findings?: StatusFinding[];
}

const DOCTOR = 'run `lychd-crypt doctor` for the details and the fix';

/** The problems in the facts, worst first within their order of discovery. */
function findingsOf(f: StatusFacts, t: CheckThresholds, now: Date, facts: string[], perf: string[]): StatusFinding[] {
  const out: StatusFinding[] = [];
  const raise = (state: 1 | 2, what: string, fix: string): void => void out.push({ state, what, fix });
  if (!f.mounted || (!f.space && !f.notVisible?.includes('space'))) {
    const why = f.identity ? `: ${f.identity.detail}` : '';
    raise(2, `${f.crypt} is not mounted${why}`, why ? DOCTOR : 'mount it: `lychd-crypt repair` (as root)');
    return out;
  }
  if (f.writable === 'forced-ro') raise(2, 'Btrfs forced the crypt read-only after a write error', `${DOCTOR} (mount.writable: free the host, then \`lychd-crypt repair\` remounts it)`);
  else if (f.writable === 'ro') raise(2, 'the crypt is mounted read-only', '`lychd-crypt repair` remounts it read-write');
  if (f.identity) raise(1, `the crypt is ${f.identity.detail}`, `${DOCTOR} (mount.identity)`);
  if (f.deviceErrors?.length) {
    const list = f.deviceErrors.map((e) => `${e.device}: ${Object.entries(e.counters).map(([k, v]) => `${k} ${v}`).join(', ')}`).join('; ');
    raise(1, `Btrfs counted device errors (${list})`, `${DOCTOR} (mount.errors)`);
  }
  const op = f.operation;
  if (op?.state === 'running') facts.push(`${op.op ? `a ${op.op}` : 'an operation'} is in progress (pid ${op.pid})`);
  if (op?.state === 'interrupted') {
    raise(1, `an interrupted ${op.op ?? 'operation'}${op.phase ? ` (phase ${op.phase})` : ''} is pending`, 'the next lychd-crypt command that changes the crypt finishes or undoes it, or run `lychd-crypt repair`');
  }
  if (f.leftovers) {
    const l = f.leftovers;
    const parts = [
      l.incomplete.length && `${l.incomplete.length} snapshot(s) without metadata`,
      l.orphanMeta.length && `${l.orphanMeta.length} metadata file(s) without their snapshot`,
      l.unreadableMeta.length && `${l.unreadableMeta.length} unusable metadata file(s)`,
    ].filter(Boolean);
    raise(1, `leftovers in snapshots/: ${parts.join(', ')}`, '`lychd-crypt repair` removes or rebuilds them');
  }
  if (f.snapshots) {
    const newest = f.snapshots.newest;
    if (!newest) raise(2, 'no snapshot', 'take one: `lychd-crypt snapshot`');
    else {
      const age = now.getTime() - Date.parse(newest.createdAt);
      facts.push(`newest snapshot ${formatAge(age < 60_000 ? Math.max(0, Math.floor(age / 1000)) * 1000 : Math.floor(age / 60_000) * 60_000)} old`);
      const stale = (state: 1 | 2, limit: number) => raise(state, `newest snapshot older than ${formatAge(limit)}`, 'take one (`lychd-crypt snapshot`); is the timer running? (`systemctl list-timers`)');
      if (age > 2 * t.maxAgeMs) stale(2, 2 * t.maxAgeMs);
      else if (age > t.maxAgeMs) stale(1, t.maxAgeMs);
      perf.push(`age=${Math.round(age / 1000)}s;${t.maxAgeMs / 1000};${(2 * t.maxAgeMs) / 1000};0`);
    }
    const count = f.snapshots.count;
    facts.push(`${count} snapshot${count === 1 ? '' : 's'}`);
    perf.push(`snapshots=${count}`);
  }
  if (f.space) {
    const warn = floorBytes(t.minFree, f.space.sizeBytes);
    const free = f.space.freeBytes;
    facts.push(`${approxSize(free)} free`);
    const full = (state: 1 | 2, below: number) => raise(state, `free space ${approxSize(free)} below ${approxSize(below)}`, 'prune (`lychd-crypt prune --dry-run`), remove data, or grow the crypt');
    if (free < warn / 2) full(2, warn / 2);
    else if (free < warn) full(1, warn);
    perf.push(`free=${free}B;${warn};${Math.floor(warn / 2)};0;${f.space.sizeBytes}`);
  }
  if (f.runs.verify && !f.runs.verify.ok) raise(1, `last verify failed: ${f.runs.verify.summary}`, '`lychd-crypt verify` the snapshot again, and look at what it says');
  if (f.runs.scheduled && !f.runs.scheduled.ok) raise(1, `last scheduled run: ${f.runs.scheduled.summary}`, 'see the reason above; `journalctl -u` the snapshot service');
  if (f.notVisible?.length) facts.push(`not visible to this user: ${f.notVisible.join(', ')}`);
  return out;
}

export function evaluateCheck(f: StatusFacts, t: CheckThresholds, now: Date): CheckResult {
  const perf: string[] = [];
  const facts: string[] = [];
  const findings = findingsOf(f, t, now, facts, perf);
  const state = findings.reduce<0 | 1 | 2>((s, x) => (x.state > s ? x.state : s), 0);
  const problems = findings.map((x) => x.what);
  const head = problems.length ? problems.join('; ') : facts.join(', ');
  const tail = problems.length && facts.length ? ` (${facts.join(', ')})` : '';
  return { state, problems, findings, line: `LYCHD-CRYPT ${NAMES[state]} - ${head}${tail}${perf.length ? ` | ${perf.join(' ')}` : ''}` };
}

export function unknownLine(message: string): CheckResult {
  return { state: 3, problems: [message], line: `LYCHD-CRYPT UNKNOWN - ${message.split('\n')[0]}` };
}
