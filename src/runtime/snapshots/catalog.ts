// The snapshots of a crypt as `list` shows them: complete ones only (with metadata and a subvolume),
// newest first, plus exclusive sizes when Btrfs quotas are already on.
import { CryptError } from '../../base/errors.js';
import type { Runner } from '../../base/runner.js';
import type { CryptPaths } from '../../base/crypt/paths.js';
import { exclusiveSizes } from '../../base/btrfs/qgroup.js';
import { subvolumeShow } from '../../base/btrfs/subvolume.js';
import { exclusiveByDu } from '../../base/btrfs/du.js';
import { readSnapshotDir, snapshotPath, type SnapshotMeta } from './meta.js';
import { newestFirst } from './order.js';

export interface CatalogEntry {
  meta: SnapshotMeta;
  /** Bytes only this snapshot holds; null when quotas are off (we never turn them on). */
  exclusiveBytes: number | null;
}

export interface Catalog {
  entries: CatalogEntry[];
  /** Subvolumes without metadata: interrupted snapshots, ignored here, removed by repair. */
  incomplete: string[];
  /** Snapshots whose metadata cannot be read: ignored here. */
  unreadable: string[];
  /** How many entries of snapshots/ are no snapshot of ours (src/runtime/snapshots/foreign.ts): ignored; doctor names them. */
  foreign: number;
}

/** sizes: from quota groups when they are on; du: else walk each snapshot (`list --sizes`, slow on big trees). */
export async function readCatalog(paths: CryptPaths, runner: Runner, opts: { sizes: boolean; du?: boolean }): Promise<Catalog> {
  const dir = await readSnapshotDir(paths).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') {
      throw new CryptError(`${paths.snapshots} is missing`, { hint: 'Run `lychd-crypt doctor` and `lychd-crypt repair` to restore the layout.' });
    }
    throw e;
  });
  const metas = newestFirst(dir.complete);
  const sizes = opts.sizes && metas.length ? await exclusiveSizes(runner, paths.snapshots) : null;
  const ids = sizes ? await snapshotIds(runner, paths.snapshots) : new Map<string, number>();
  const entries: CatalogEntry[] = [];
  for (const meta of metas) {
    let exclusiveBytes: number | null = null;
    if (sizes) {
      const id = ids.get(meta.name) ?? (await subvolumeShow(runner, snapshotPath(paths, meta.name)).catch(() => null))?.id;
      exclusiveBytes = id !== undefined ? (sizes.get(id) ?? null) : null;
    }
    if (!sizes && opts.du) exclusiveBytes = await exclusiveByDu(runner, snapshotPath(paths, meta.name));
    entries.push({ meta, exclusiveBytes });
  }
  return { entries, incomplete: dir.incomplete, unreadable: dir.unreadableMeta ?? [], foreign: dir.foreign.length };
}

/** Snapshot name -> subvolume id in one `btrfs subvolume list` (paths end in `snapshots/<name>`). */
async function snapshotIds(runner: Runner, snapshotsDir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const r = await runner.run(['btrfs', 'subvolume', 'list', '-o', snapshotsDir], { allowFailure: true });
  for (const line of r.stdout.split('\n')) {
    const m = /^ID (\d+) .*? path (?:.*\/)?snapshots\/([^/]+)$/.exec(line.trim());
    if (m) out.set(m[2]!, Number(m[1]));
  }
  return out;
}
