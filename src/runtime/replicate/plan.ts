// What one replication run does for one target (pure; --dry-run prints exactly this):
// - common: the newest local snapshot the target holds a complete copy of, matched by origin UUID, never by name;
// - sends: every local snapshot newer than that, oldest first, each incremental against the one before it
//   (the first against the common one), full when there is none; candidates the target's retention would
//   delete right after they arrive are not sent (hourly snapshots to a daily target) — the newest always is;
// - file:// chains: a new full every `fullEvery` incrementals, and a re-base on a new full when the newest
//   copy's chain is broken;
// - deletes: what the target's retention no longer keeps once the sends are there; never the newest copy
//   (the next incremental's base), never a stream a kept copy's chain needs; broken streams once a newer
//   full is intact.
import type { TargetKind } from '../../model/replicate.js';
import { applyRetention, type RetentionItem, type RetentionPolicy } from '../retention/policy.js';
import { closeOverChains } from './stream/chain.js';
import type { Inventory } from './stream/target.js';

export interface LocalSnapshot {
  name: string;
  createdAt: string;
  originUuid: string;
  pinned: boolean;
  preRollback: boolean;
}

export interface PlannedSend {
  name: string;
  originUuid: string;
  parent: { name: string; originUuid: string } | null;
  kind: 'full' | 'incremental';
  reason: string;
  /** file:// only: the chain this stream joins. */
  chain?: { full: string; index: number };
  /** From `btrfs send --no-data` (filled in after planning; null when not estimated). */
  estimatedBytes: number | null;
}

export interface PlannedDelete {
  name: string;
  originUuid: string;
  /** A file:// copy whose chain is broken (removed as a name, not as a copy). */
  broken: boolean;
  reason: string;
}

export interface TargetPlan {
  common: { name: string; originUuid: string } | null;
  sends: PlannedSend[];
  deletes: PlannedDelete[];
}

export interface PlanInput {
  kind: TargetKind;
  /** The target's retention (its own, else the crypt's); null: every copy is kept. */
  policy: RetentionPolicy | null;
  fullEvery: number;
  inventory: Inventory;
}

const byTime = <T extends { createdAt: string; name: string }>(a: T, b: T): number => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name);

const item = (s: { name: string; createdAt: string; pinned: boolean; preRollback: boolean }): RetentionItem => ({ name: s.name, createdAt: s.createdAt, pinned: s.pinned, preRollback: s.preRollback });

export function planReplication(localSnapshots: readonly LocalSnapshot[], input: PlanInput, now: Date): TargetPlan {
  const inv = input.inventory;
  const local = [...localSnapshots].sort(byTime);
  const copies = [...inv.copies].sort(byTime);
  const held = new Set(copies.map((c) => c.originUuid));

  // file://: the newest copy (complete or not) decides whether the chain goes on or starts again.
  const newestAny = [...copies.map((c) => ({ name: c.name, createdAt: c.createdAt, broken: null as string | null })), ...inv.broken.map((b) => ({ name: b.name, createdAt: b.createdAt, broken: b.why }))].sort(byTime).at(-1);
  const rebase = input.kind === 'file' && newestAny?.broken ? `re-base: ${newestAny.name} cannot be restored (${newestAny.broken})` : null;

  const commonIndex = rebase ? -1 : local.reduce((at, s, i) => (held.has(s.originUuid) ? i : at), -1);
  const common = commonIndex >= 0 ? local[commonIndex]! : null;
  let candidates = rebase ? local.slice(-1).filter((s) => !held.has(s.originUuid)) : local.slice(commonIndex + 1).filter((s) => !held.has(s.originUuid));
  if (input.policy && candidates.length > 1) {
    const keep = new Set(applyRetention([...copies.map(item), ...candidates.map(item)], input.policy, now).filter((d) => d.action === 'keep').map((d) => d.name));
    const last = candidates.at(-1)!;
    candidates = candidates.filter((c) => keep.has(c.name) || c === last);
  }

  const sends: PlannedSend[] = [];
  let parent: { name: string; originUuid: string } | null = common ? { name: common.name, originUuid: common.originUuid } : null;
  let index = common ? (inv.chainIndex[common.name] ?? 0) : 0;
  let full = common ? (copies.find((c) => c.originUuid === common.originUuid)?.sidecar.chain?.full ?? common.name) : '';
  for (const c of candidates) {
    let kind: PlannedSend['kind'] = 'incremental';
    let reason = parent ? `against ${parent.name}` : '';
    if (!parent) {
      kind = 'full';
      reason = rebase ?? (copies.length ? 'no common snapshot with the target' : 'the first copy');
    } else if (input.kind === 'file' && index + 1 > input.fullEvery) {
      kind = 'full';
      reason = `rotation: ${index} incremental${index === 1 ? '' : 's'} since the last full (fullEvery ${input.fullEvery})`;
    }
    if (kind === 'full') {
      index = 0;
      full = c.name;
    } else index += 1;
    sends.push({
      name: c.name,
      originUuid: c.originUuid,
      parent: kind === 'full' ? null : parent,
      kind,
      reason,
      ...(input.kind === 'file' ? { chain: { full, index } } : {}),
      estimatedBytes: null,
    });
    parent = { name: c.name, originUuid: c.originUuid };
  }

  const deletes: PlannedDelete[] = [];
  const after = [...copies.map((c) => ({ ...item(c), originUuid: c.originUuid, held: true })), ...candidates.filter((c) => sends.some((s) => s.name === c.name)).map((c) => ({ ...item(c), originUuid: c.originUuid, held: false }))];
  if (input.policy && after.length) {
    const decisions = applyRetention(after, input.policy, now);
    const kept = decisions.filter((d) => d.action === 'keep').map((d) => after.find((a) => a.name === d.name)!.originUuid);
    const parentOf = new Map<string, string | null>([...copies.map((c) => [c.originUuid, c.parentOriginUuid] as const), ...sends.map((s) => [s.originUuid, s.parent?.originUuid ?? null] as const)]);
    const needed = input.kind === 'file' ? closeOverChains(kept, (o) => parentOf.get(o) ?? null) : new Set(kept);
    for (const d of decisions) {
      const a = after.find((x) => x.name === d.name)!;
      if (d.action === 'delete' && a.held && !needed.has(a.originUuid)) deletes.push({ name: a.name, originUuid: a.originUuid, broken: false, reason: 'no retention rule keeps it' });
    }
  }
  if (input.kind === 'file') {
    const fulls = [...copies.filter((c) => (inv.chainIndex[c.name] ?? 0) === 0).map((c) => c.createdAt), ...sends.filter((s) => s.kind === 'full').map((s) => local.find((l) => l.name === s.name)!.createdAt)];
    for (const b of inv.broken) {
      // A broken copy of the name being sent again is replaced by that send.
      if (sends.some((s) => s.name === b.name)) continue;
      if (fulls.some((t) => t > b.createdAt)) deletes.push({ name: b.name, originUuid: b.originUuid, broken: true, reason: `cannot be restored (${b.why}) and a newer full is there` });
    }
  }
  return { common: common ? { name: common.name, originUuid: common.originUuid } : null, sends, deletes };
}
