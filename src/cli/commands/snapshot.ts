// `lychd-crypt snapshot [--label TEXT] [--mode bracket|checkpoint|instant|cold|none]`: the Ritual, under the lock.
import { mutateCrypt } from '../frame/mutate.js';
import { hookedOperations, snapshotWithHooks } from '../frame/hooks.js';
import { refuseWithoutRoom } from '../../runtime/space/reserve.js';
import { spaceTargetOf } from '../../runtime/space/target.js';
import { parseMode } from '../../runtime/ritual/mode.js';
import type { SnapshotMeta } from '../../runtime/snapshots/meta.js';
import { snapshotPath } from '../../runtime/snapshots/meta.js';
import { validateLabel } from '../../runtime/snapshots/names.js';
import { formatVersion } from '../../runtime/snapshots/format.js';
import { UsageError } from '../../base/errors.js';
import { floorWarning, runScheduledSnapshot } from '../../runtime/scheduled-run.js';
import type { CommandContext, CommandOutput } from '../frame/context.js';

export { formatVersion };

/** One line: name, mode, server, then every phase with its duration. */
export function summarizeSnapshot(meta: SnapshotMeta): string {
  const pg = meta.postgres;
  const server = pg?.versionNum ? `, PostgreSQL ${formatVersion(pg.versionNum)}` : pg?.major ? `, PostgreSQL ${pg.major}` : '';
  const phases = Object.entries(meta.timings)
    .filter(([k]) => k !== 'total')
    .map(([k, ms]) => `${k} ${ms} ms`)
    .join(', ');
  // With the WAL outside the crypt: how much WAL came in, and that a restore ends at the backup's stop LSN.
  const wal = pg?.wal ? `; WAL copied in: ${pg.wal.segments.count} segment(s), ${Math.round(pg.wal.bytes / 2 ** 20)} MiB${pg.wal.restorePoint ? `; restore point: the backup's stop LSN ${pg.wal.restorePoint}` : ''}` : '';
  return `snapshot ${meta.name} taken (${meta.mode}${server}): ${phases}; total ${meta.timings.total ?? '?'} ms${wal}`;
}

export async function runSnapshot(_args: string[], opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  // Bad input fails before the lock is taken or anything is touched.
  const label = validateLabel(opts.label as string | undefined);
  const mode = parseMode(opts.mode);
  if (opts.scheduled) {
    if (label !== null || mode !== undefined || opts.pin) throw new UsageError('--scheduled takes its label, mode and policy from the configuration: no --label, --mode or --pin');
    return mutateCrypt(ctx, async (crypt) => {
      const r = await runScheduledSnapshot(crypt, ctx, hookedOperations(crypt, ctx));
      const removed = [...r.floorPruned, ...r.pruned];
      return {
        json: { ok: true, snapshot: r.snapshot, path: snapshotPath(crypt.paths, r.snapshot.name), floorPruned: r.floorPruned, pruned: r.pruned },
        human: `${summarizeSnapshot(r.snapshot)}${removed.length ? `
removed ${removed.join(', ')}` : ''}`,
      };
    });
  }
  return mutateCrypt(ctx, async (crypt) => {
    // A snapshot that fills the crypt makes PostgreSQL PANIC: refuse first (exit 3) with the numbers.
    await refuseWithoutRoom(spaceTargetOf(crypt), 'snapshot');
    const warning = await floorWarning(crypt).catch(() => null);
    if (warning) ctx.log.warn(warning);
    const meta = await snapshotWithHooks(crypt, ctx, { label, mode, pinned: Boolean(opts.pin) });
    return {
      json: { ok: true, snapshot: meta, path: snapshotPath(crypt.paths, meta.name) },
      human: summarizeSnapshot(meta),
    };
  });
}
