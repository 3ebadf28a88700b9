// Snapshot, delete and show one subvolume: snapshot and show through ioctls on fds opened without following
// links (no process to start), delete through `btrfs subvolume delete` and the runner.
import path from 'node:path';
import type { Runner } from '../runner.js';
import { closeDir, openDir, snapshotAt, subvolInfo } from '../sys/fd.js';

export interface SnapshotOptions {
  /** A read-only snapshot (`-r`): what snapshots/ holds. Rollback staging needs a writable one. */
  readonly: boolean;
}

/** `btrfs subvolume snapshot [-r] src dst`, as one ioctl: `dst` names the new subvolume, its parent must exist. */
export async function subvolumeSnapshot(src: string, dst: string, opts: SnapshotOptions): Promise<void> {
  const from = await openDir(src);
  try {
    const parent = await openDir(path.dirname(dst));
    try {
      await snapshotAt(from, parent, path.basename(dst), opts);
    } finally {
      await closeDir(parent);
    }
  } finally {
    await closeDir(from);
  }
}

/**
 * Deletes one subvolume; `--commit-after` so the deletion is durable before we report it done. Root may
 * delete a read-only snapshot as it is; its owner (a rootless crypt, mounted with user_subvol_rm_allowed)
 * must clear `ro` first — and sets it again if the deletion then fails, so a kept snapshot stays read-only.
 */
export async function subvolumeDelete(runner: Runner, path: string): Promise<void> {
  const asOwner = process.getuid?.() !== 0 && (await subvolumeShow(runner, path).catch(() => null))?.readonly === true;
  if (asOwner) await runner.run(['btrfs', 'property', 'set', '-ts', path, 'ro', 'false']);
  try {
    await runner.run(['btrfs', 'subvolume', 'delete', '--commit-after', path]);
  } catch (e) {
    if (asOwner) await runner.run(['btrfs', 'property', 'set', '-ts', path, 'ro', 'true'], { allowFailure: true });
    throw e;
  }
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

/**
 * Facts about the subvolume at `path` through BTRFS_IOC_GET_SUBVOL_INFO (no privilege needed, unlike
 * `btrfs subvolume show`, whose tree search needs CAP_SYS_ADMIN), on an fd opened without following links.
 */
export async function subvolumeShow(_runner: Runner, path: string): Promise<SubvolumeInfo> {
  const dir = await openDir(path);
  try {
    const i = await subvolInfo(dir);
    return { uuid: i.uuid, parentUuid: i.parentUuid, id: i.id, generation: i.generation, genAtCreation: i.genAtCreation, readonly: i.readonly };
  } finally {
    await closeDir(dir);
  }
}
