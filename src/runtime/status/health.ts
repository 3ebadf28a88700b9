// `status --check`: the Nagios plugin convention (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) and one line of
// output with performance data, as sanoid's --monitor-snapshots does. Pure.
//   age:   newest snapshot older than maxAge: WARNING; older than twice that, or no snapshot: CRITICAL.
//   space: usable free space below minFree: WARNING; below half of it: CRITICAL.
//   not mounted: CRITICAL. The last verify or scheduled run failed: WARNING.
import { floorBytes } from './space.js';
import type { StatusFacts } from './gather.js';
import { approxSize, formatAge } from '../../model/units.js';
import type { FreeFloor } from '../../model/settings.js';
import { checkReplication } from '../replicate/status.js';

const NAMES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;

export interface CheckThresholds {
  maxAgeMs: number;
  minFree: FreeFloor;
  /** --max-replica-age: judge each replication target's newest copy (null/absent: targets are not judged). */
  maxReplicaAgeMs?: number | null;
}

export interface CheckResult {
  state: 0 | 1 | 2 | 3;
  line: string;
  problems: string[];
}

export function evaluateCheck(f: StatusFacts, t: CheckThresholds, now: Date): CheckResult {
  let state: 0 | 1 | 2 = 0;
  const problems: string[] = [];
  const raise = (s: 1 | 2, msg: string): void => {
    state = Math.max(state, s) as 0 | 1 | 2;
    problems.push(msg);
  };
  const perf: string[] = [];
  const facts: string[] = [];
  if (!f.mounted || !f.space) {
    raise(2, `${f.crypt} is not mounted`);
  } else {
    const newest = f.snapshots?.newest;
    if (!newest) raise(2, 'no snapshot');
    else {
      const age = now.getTime() - Date.parse(newest.createdAt);
      facts.push(`newest snapshot ${formatAge(age < 60_000 ? Math.max(0, Math.floor(age / 1000)) * 1000 : Math.floor(age / 60_000) * 60_000)} old`);
      if (age > 2 * t.maxAgeMs) raise(2, `newest snapshot older than ${formatAge(2 * t.maxAgeMs)}`);
      else if (age > t.maxAgeMs) raise(1, `newest snapshot older than ${formatAge(t.maxAgeMs)}`);
      perf.push(`age=${Math.round(age / 1000)}s;${t.maxAgeMs / 1000};${(2 * t.maxAgeMs) / 1000};0`);
    }
    const count = f.snapshots?.count ?? 0;
    facts.push(`${count} snapshot${count === 1 ? '' : 's'}`);
    perf.push(`snapshots=${f.snapshots?.count ?? 0}`);
    const warn = floorBytes(t.minFree, f.space.sizeBytes);
    const free = f.space.freeBytes;
    facts.push(`${approxSize(free)} free`);
    if (free < warn / 2) raise(2, `free space ${approxSize(free)} below ${approxSize(warn / 2)}`);
    else if (free < warn) raise(1, `free space ${approxSize(free)} below ${approxSize(warn)}`);
    perf.push(`free=${free}B;${warn};${Math.floor(warn / 2)};0;${f.space.sizeBytes}`);
    if (f.runs.verify && !f.runs.verify.ok) raise(1, `last verify failed: ${f.runs.verify.summary}`);
    if (f.runs.scheduled && !f.runs.scheduled.ok) raise(1, `last scheduled run: ${f.runs.scheduled.summary}`);
  }
  const replicas = checkReplication(f.replication ?? [], t.maxReplicaAgeMs ?? null, now);
  for (const p of replicas.problems) raise(p.state, p.message);
  facts.push(...replicas.facts);
  perf.push(...replicas.perf);
  const head = problems.length ? problems.join('; ') : facts.join(', ');
  const tail = problems.length && facts.length ? ` (${facts.join(', ')})` : '';
  return { state, problems, line: `LYCHD-CRYPT ${NAMES[state]} - ${head}${tail}${perf.length ? ` | ${perf.join(' ')}` : ''}` };
}

export function unknownLine(message: string): CheckResult {
  return { state: 3, problems: [message], line: `LYCHD-CRYPT UNKNOWN - ${message.split('\n')[0]}` };
}
