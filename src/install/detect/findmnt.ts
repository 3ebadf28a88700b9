// Mount facts from findmnt(8) JSON: which filesystem holds a path, and what is mounted exactly at a path.
import type { Runner } from '../../base/runner.js';
import { loopBackingFile } from '../../base/sys/loop.js';
import type { MountFacts } from './facts.js';

interface FindmntJson {
  filesystems?: { target: string; source: string; fstype: string; options: string }[];
}

const COLUMNS = 'TARGET,SOURCE,FSTYPE,OPTIONS';

/** Parses `findmnt -J -o TARGET,SOURCE,FSTYPE,OPTIONS`; the last entry is the top of a stack. */
export function parseFindmnt(json: string): Omit<MountFacts, 'backingFile'>[] {
  const data = JSON.parse(json) as FindmntJson;
  return (data.filesystems ?? []).map((f) => ({
    target: f.target,
    // btrfs subvolume mounts show as /dev/x[/subvol]: keep the device.
    source: f.source.replace(/\[.*\]$/, ''),
    fstype: f.fstype,
    options: f.options.split(','),
  }));
}

async function withBacking(m: Omit<MountFacts, 'backingFile'> | undefined): Promise<MountFacts | null> {
  return m ? { ...m, backingFile: await loopBackingFile(m.source) } : null;
}

/** The filesystem holding an existing path. */
export async function mountHolding(runner: Runner, existingPath: string): Promise<MountFacts> {
  const r = await runner.run(['findmnt', '-J', '-o', COLUMNS, '--target', existingPath]);
  const m = await withBacking(parseFindmnt(r.stdout).at(-1));
  if (!m) throw new Error(`findmnt found no filesystem for ${existingPath}`);
  return m;
}

/** What is mounted exactly at `mountPoint` (the topmost), or null. */
export async function mountAt(runner: Runner, mountPoint: string): Promise<MountFacts | null> {
  const r = await runner.run(['findmnt', '-J', '-o', COLUMNS, '--mountpoint', mountPoint], { allowFailure: true });
  if (r.exitCode !== 0 || !r.stdout.trim()) return null;
  return withBacking(parseFindmnt(r.stdout).at(-1));
}

/** Where a device is mounted (any mount point). */
export async function mountPointsOf(runner: Runner, device: string): Promise<string[]> {
  const r = await runner.run(['findmnt', '-J', '-o', COLUMNS, '--source', device], { allowFailure: true });
  if (r.exitCode !== 0 || !r.stdout.trim()) return [];
  return parseFindmnt(r.stdout).map((m) => m.target);
}
