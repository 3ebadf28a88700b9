// What the last replication run did per target, for `status`, `--check` and Prometheus (offline: they read
// this file, never the target), for the local prune (the newest copy on each target is the base of its next
// incremental) and for a rootless crypt's owner (`replicate --list`). Root's state, 0644: the owner reads it.
import path from 'node:path';
import type { Config } from '../../model/config.js';
import type { TargetKind } from '../../model/replicate.js';
import { readJsonIfExists, writeJsonAtomic } from '../../base/sys/fs.js';

export interface TargetRecord {
  kind: TargetKind;
  url: string;
  /** End of the last run, and whether it succeeded. */
  at: string;
  ok: boolean;
  summary: string;
  durationMs: number;
  /** Bytes sent in the last run. */
  bytes: number;
  sent: string[];
  deleted: string[];
  /** The newest complete copy on the target as of the last run (kept from before when a run failed early). */
  newest: { name: string; originUuid: string; createdAt: string } | null;
  copies: number;
  /** The copies' names, oldest first (for `replicate --list`). */
  names: string[];
  /** file:// only. */
  chain?: { intact: boolean; sinceFull: number; broken: string[] };
  lastSuccessAt: string | null;
}

export interface ReplicationRecord {
  format: 1;
  targets: Record<string, TargetRecord>;
}

/** root's state directory of the crypt (for a system crypt its usual one; for a rootless crypt root's own beside the registry). */
export function replicationRecordPath(config: Pick<Config, 'registry' | 'crypt'>): string {
  return path.join(config.registry.state, config.crypt.name, 'replication.json');
}

export async function readReplication(config: Pick<Config, 'registry' | 'crypt'>): Promise<ReplicationRecord> {
  // A damaged file loses the history shown, nothing else (prune then protects no replica base: it is also
  // protected on the target, which never deletes its newest copy).
  const r = await readJsonIfExists<ReplicationRecord>(replicationRecordPath(config)).catch(() => undefined);
  return r && r.format === 1 && r.targets && typeof r.targets === 'object' ? r : { format: 1, targets: {} };
}

/** Callers hold the crypt lock; each target's entry is replaced, the others kept. */
export async function recordReplication(config: Pick<Config, 'registry' | 'crypt'>, target: string, rec: TargetRecord): Promise<void> {
  const all = await readReplication(config);
  all.targets[target] = rec;
  await writeJsonAtomic(replicationRecordPath(config), all, { mode: 0o644 });
}

/** The local snapshots that are some target's newest copy: what prune must keep (names; the same on both sides). */
export async function replicaBases(config: Pick<Config, 'registry' | 'crypt' | 'replicate'>): Promise<Set<string>> {
  if (!config.replicate?.targets.length) return new Set();
  const r = await readReplication(config);
  const configured = new Set(config.replicate.targets.map((t) => t.name));
  return new Set(Object.entries(r.targets).filter(([name, t]) => configured.has(name) && t.newest).map(([, t]) => t.newest!.name));
}
