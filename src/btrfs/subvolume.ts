// Thin wrappers over `btrfs subvolume …`: snapshot, delete and show. Everything goes through the runner.
import type { Runner } from '../core/runner.js';

export interface SnapshotOptions {
  /** A read-only snapshot (`-r`): what snapshots/ holds. Rollback staging needs a writable one. */
  readonly: boolean;
}

export async function subvolumeSnapshot(runner: Runner, src: string, dst: string, opts: SnapshotOptions): Promise<void> {
  await runner.run(['btrfs', 'subvolume', 'snapshot', ...(opts.readonly ? ['-r'] : []), src, dst]);
}

/** Deletes one subvolume; `--commit-after` so the deletion is durable before we report it done. */
export async function subvolumeDelete(runner: Runner, path: string): Promise<void> {
  await runner.run(['btrfs', 'subvolume', 'delete', '--commit-after', path]);
}

export interface SubvolumeInfo {
  uuid: string;
  /** UUID of the subvolume this one is a snapshot of, or null. */
  parentUuid: string | null;
  id: number;
  generation: number;
  genAtCreation: number;
  readonly: boolean;
}

/** Parses `btrfs subvolume show PATH` (btrfs-progs 5.x/6.x layout: "\tKey: \t\tvalue"). */
export function parseSubvolumeShow(text: string): SubvolumeInfo {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s+([A-Za-z][A-Za-z ()]*?):\s*(.*)$/.exec(line);
    if (m && !fields.has(m[1]!)) fields.set(m[1]!, m[2]!.trim());
  }
  const uuid = fields.get('UUID');
  const generation = Number(fields.get('Generation'));
  if (!uuid || !Number.isInteger(generation)) throw new Error(`cannot parse btrfs subvolume show output:\n${text}`);
  const parent = fields.get('Parent UUID');
  return {
    uuid,
    parentUuid: parent && parent !== '-' ? parent : null,
    id: Number(fields.get('Subvolume ID')),
    generation,
    genAtCreation: Number(fields.get('Gen at creation')),
    readonly: (fields.get('Flags') ?? '').split(/[ ,|]+/).includes('readonly'),
  };
}

export async function subvolumeShow(runner: Runner, path: string): Promise<SubvolumeInfo> {
  const r = await runner.run(['btrfs', 'subvolume', 'show', path]);
  return parseSubvolumeShow(r.stdout);
}
