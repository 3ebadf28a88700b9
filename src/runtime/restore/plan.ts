// Which copies a restore receives, in order (pure). On a Btrfs target (ssh, path) it is one copy: sent
// whole, or incremental against a copy whose snapshot the crypt already holds (matched by origin UUID).
// On a file:// target it is the chain from its full up to the wanted stream, less what the crypt holds.
import { RefusedError, UsageError } from '../../base/errors.js';
import type { TargetKind } from '../../model/replicate.js';
import type { Copy, Inventory } from '../replicate/stream/target.js';

export interface RestoreStep {
  copy: Copy;
  /** The copy the stream is made against (the crypt holds its snapshot), or null: a full stream. */
  parent: Copy | null;
}

export interface RestorePlan {
  /** The snapshot the crypt is rolled back to. */
  target: Copy;
  steps: RestoreStep[];
  /** The crypt already holds the wanted snapshot: nothing to receive. */
  alreadyHere: boolean;
}

export interface LocalOrigin {
  name: string;
  originUuid: string;
}

const byTime = (a: Copy, b: Copy): number => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name);

/** want: a snapshot name, or "latest" (the newest complete copy). */
export function planRestore(inv: Inventory, kind: TargetKind, local: readonly LocalOrigin[], want: string, shown: string): RestorePlan {
  const copies = [...inv.copies].sort(byTime);
  if (!copies.length) throw new UsageError(`${shown} holds no complete copy to restore${inv.broken.length ? ` (${inv.broken.length} whose chain is broken)` : ''}`);
  const target = want === 'latest' ? copies.at(-1)! : copies.find((c) => c.name === want);
  if (!target) {
    const broken = inv.broken.find((b) => b.name === want);
    throw new UsageError(broken ? `${want} on ${shown} cannot be restored: ${broken.why}` : `${shown} holds no copy named ${want}`, {
      hint: `The copies there: ${copies.map((c) => c.name).join(', ')} (or "latest").`,
    });
  }
  const held = new Map(local.map((l) => [l.originUuid, l.name]));
  const sameName = local.find((l) => l.name === target.name);
  if (held.has(target.originUuid)) return { target, steps: [], alreadyHere: true };
  if (sameName) throw new RefusedError(`the crypt has a snapshot ${target.name} that is not the copy on ${shown} (another origin); nothing was changed`, { hint: `Delete or rename it first (\`lychd-crypt delete ${target.name}\`), then restore again.` });
  if (kind !== 'file') {
    const base = copies.filter((c) => byTime(c, target) < 0 && held.has(c.originUuid)).at(-1) ?? null;
    return { target, steps: [{ copy: target, parent: base }], alreadyHere: false };
  }
  // file://: walk the chain back to its full, stop at the first snapshot the crypt already has.
  const byOrigin = new Map(copies.map((c) => [c.originUuid, c]));
  const chain: RestoreStep[] = [];
  for (let c: Copy | undefined = target; c; ) {
    const parent: Copy | null = c.parentOriginUuid ? (byOrigin.get(c.parentOriginUuid) ?? null) : null;
    if (c.parentOriginUuid && !parent) throw new UsageError(`${target.name} on ${shown} cannot be restored: the stream before ${c.name} is missing`);
    chain.unshift({ copy: c, parent });
    if (!parent || held.has(parent.originUuid)) break;
    c = parent;
  }
  for (const s of chain) {
    const clash = local.find((l) => l.name === s.copy.name && l.originUuid !== s.copy.originUuid);
    if (clash) throw new RefusedError(`the crypt has a snapshot ${s.copy.name} that is not the copy on ${shown}; nothing was changed`, { hint: `Delete it first (\`lychd-crypt delete ${s.copy.name}\`), then restore again.` });
  }
  return { target, steps: chain, alreadyHere: false };
}
