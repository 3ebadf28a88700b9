// Replication in `status`, `status --check` and the Prometheus file: per target, its newest copy and its
// age, how many copies, the last run, a file:// chain's state — read offline from the record the last run
// wrote (./record.ts), never from the target. The status modules call these; everything here is light
// (status --check runs from monitoring every few minutes).
import type { Config } from '../../model/config.js';
import type { TargetKind } from '../../model/replicate.js';
import { formatTargetUrl } from '../../model/replicate.js';
import { approxSize, formatAge } from '../../model/units.js';
import { readReplication, type ReplicationRecord } from './record.js';

export interface ReplicaFacts {
  target: string;
  kind: TargetKind;
  url: string;
  newest: { name: string; createdAt: string } | null;
  copies: number;
  lastRun: { at: string; ok: boolean; summary: string; bytes: number; durationMs: number } | null;
  chain: { intact: boolean; sinceFull: number; broken: string[] } | null;
}

export async function gatherReplication(config: Config): Promise<ReplicaFacts[]> {
  const targets = config.replicate?.targets ?? [];
  if (!targets.length) return [];
  const rec = await readReplication(config);
  return targets.map((t) => {
    const r = rec.targets[t.name];
    return {
      target: t.name,
      kind: t.url.kind,
      url: formatTargetUrl(t.url),
      newest: r?.newest ? { name: r.newest.name, createdAt: r.newest.createdAt } : null,
      copies: r?.copies ?? 0,
      lastRun: r ? { at: r.at, ok: r.ok, summary: r.summary, bytes: r.bytes, durationMs: r.durationMs } : null,
      chain: t.url.kind === 'file' ? (r?.chain ?? null) : null,
    };
  });
}

export interface ReplicaCheck {
  /** 1 WARNING, 2 CRITICAL. */
  problems: { state: 1 | 2; message: string }[];
  facts: string[];
  perf: string[];
}

/**
 * `--max-replica-age`: a target whose newest copy is older than maxAgeMs is a WARNING, older than twice
 * that (or without any copy) CRITICAL; a failed last run or a broken file:// chain is a WARNING. Without
 * the flag (null) targets are not judged.
 */
export function checkReplication(facts: readonly ReplicaFacts[], maxAgeMs: number | null, now: Date): ReplicaCheck {
  const out: ReplicaCheck = { problems: [], facts: [], perf: [] };
  if (maxAgeMs === null) return out;
  for (const f of facts) {
    if (!f.newest) out.problems.push({ state: 2, message: `target ${f.target} holds no copy` });
    else {
      const age = now.getTime() - Date.parse(f.newest.createdAt);
      if (age > 2 * maxAgeMs) out.problems.push({ state: 2, message: `target ${f.target}: newest copy older than ${formatAge(2 * maxAgeMs)}` });
      else if (age > maxAgeMs) out.problems.push({ state: 1, message: `target ${f.target}: newest copy older than ${formatAge(maxAgeMs)}` });
      out.facts.push(`${f.target} ${formatAge(Math.max(0, Math.floor(age / 60_000)) * 60_000 || 60_000)} behind`);
      out.perf.push(`replica_age_${f.target}=${Math.max(0, Math.round(age / 1000))}s;${maxAgeMs / 1000};${(2 * maxAgeMs) / 1000};0`);
    }
    if (f.lastRun && !f.lastRun.ok) out.problems.push({ state: 1, message: `last replication to ${f.target} failed: ${f.lastRun.summary}` });
    if (f.chain && !f.chain.intact) out.problems.push({ state: 1, message: `target ${f.target}: chain broken (${f.chain.broken.join(', ')}); the next run re-bases on a new full` });
  }
  return out;
}

export interface ReplicaMetric {
  name: string;
  help: string;
  samples: { labels: Record<string, string>; value: number }[];
}

export function replicaMetrics(facts: readonly ReplicaFacts[]): ReplicaMetric[] {
  const m = (name: string, help: string, value: (f: ReplicaFacts) => number | null): ReplicaMetric => ({
    name,
    help,
    samples: facts.flatMap((f) => {
      const v = value(f);
      return v === null || !Number.isFinite(v) ? [] : [{ labels: { target: f.target }, value: v }];
    }),
  });
  return [
    m('lychd_crypt_replica_newest_timestamp_seconds', 'Creation time of the newest copy on each target (Unix time).', (f) => (f.newest ? Date.parse(f.newest.createdAt) / 1000 : null)),
    m('lychd_crypt_replica_copies', 'Number of complete copies on each target.', (f) => f.copies),
    m('lychd_crypt_replica_last_run_success', 'Whether the last replication to each target succeeded.', (f) => (f.lastRun ? (f.lastRun.ok ? 1 : 0) : null)),
    m('lychd_crypt_replica_last_run_timestamp_seconds', 'End of the last replication to each target (Unix time).', (f) => (f.lastRun ? Date.parse(f.lastRun.at) / 1000 : null)),
    m('lychd_crypt_replica_last_run_duration_seconds', 'Duration of the last replication to each target.', (f) => (f.lastRun ? f.lastRun.durationMs / 1000 : null)),
    m('lychd_crypt_replica_last_run_bytes', 'Bytes sent by the last replication to each target.', (f) => (f.lastRun ? f.lastRun.bytes : null)),
    m('lychd_crypt_replica_chain_intact', 'Whether every stream chain on a file:// target can be restored.', (f) => (f.chain ? (f.chain.intact ? 1 : 0) : null)),
    m('lychd_crypt_replica_incrementals_since_full', 'Incremental streams since the last full on a file:// target.', (f) => (f.chain ? f.chain.sinceFull : null)),
  ].filter((x) => x.samples.length);
}

const ago = (iso: string, now: Date): string => {
  const ms = Math.max(0, now.getTime() - Date.parse(iso));
  return ms < 60_000 ? 'just now' : `${formatAge(Math.floor(ms / 60_000) * 60_000)} ago`;
};

/** One row per target for `status`: `offsite  ssh://…  newest NAME (1h ago), 14 copies, last run ok 2m ago (34M)`. */
export function replicaRows(facts: readonly ReplicaFacts[], now: Date): [string, string][] {
  return facts.map((f) => {
    const newest = f.newest ? `newest ${f.newest.name} (${ago(f.newest.createdAt, now)})` : 'no copy yet';
    const run = f.lastRun ? `last run ${f.lastRun.ok ? 'ok' : 'FAILED'} ${ago(f.lastRun.at, now)}${f.lastRun.ok ? ` (${approxSize(f.lastRun.bytes)})` : `: ${f.lastRun.summary}`}` : 'never run';
    const chain = f.chain && !f.chain.intact ? `, chain BROKEN at ${f.chain.broken.join(', ')}` : '';
    return [`replica ${f.target}`, `${f.url}  ${newest}, ${f.copies} cop${f.copies === 1 ? 'y' : 'ies'}, ${run}${chain}`];
  });
}

/** `replicate --list`: what each target held after the last run. */
export function renderCopyList(config: Config, rec: ReplicationRecord, now = new Date()): string {
  const targets = config.replicate?.targets ?? [];
  if (!targets.length) return 'no replication target is configured';
  const lines: string[] = [];
  for (const t of targets) {
    const r = rec.targets[t.name];
    lines.push(`${t.name}  ${formatTargetUrl(t.url)}${r ? `  (as of ${ago(r.at, now)}, last run ${r.ok ? 'ok' : `FAILED: ${r.summary}`})` : '  (never replicated)'}`);
    for (const n of r?.names ?? []) lines.push(`  ${n}`);
  }
  return lines.join('\n');
}
