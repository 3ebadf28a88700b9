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
import { floorWarning, runScheduledSnapshot, type AfterSnapshot } from '../../runtime/scheduled-run.js';
import type { OpenCrypt } from '../../base/crypt/open.js';
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

/**
 * replicate.schedule after-snapshot: a system crypt's timer run sends right away (loaded only then); a
 * rootless crypt's (its owner's) asks root's service, whose .path unit starts it.
 */
function afterSnapshot(crypt: OpenCrypt, ctx: CommandContext): (() => Promise<AfterSnapshot>) | undefined {
  const r = crypt.config.replicate;
  if (!r?.targets.length || r.schedule !== 'after-snapshot') return undefined;
  if (crypt.config.profile === 'rootless') {
    return async () => {
      await (await import('../../runtime/replicate/request-run.js')).requestReplication(crypt, 0);
      return { ok: true, summary: "asked root's replication service" };
    };
  }
  return async () => {
    const m = await import('../../runtime/replicate/replicate.js');
    const rep = await m.runReplication(crypt, ctx, m.SCHEDULED_OPTIONS);
    return { ok: rep.ok, summary: m.summarizeReplication(rep) };
  };
}

export async function runSnapshot(_args: string[], opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  // Bad input fails before the lock is taken or anything is touched.
  const label = validateLabel(opts.label as string | undefined);
  const mode = parseMode(opts.mode);
  if (opts.scheduled) {
    if (label !== null || mode !== undefined || opts.pin) throw new UsageError('--scheduled takes its label, mode and policy from the configuration: no --label, --mode or --pin');
    return mutateCrypt(ctx, async (crypt) => {
      const r = await runScheduledSnapshot(crypt, ctx, hookedOperations(crypt, ctx), afterSnapshot(crypt, ctx));
      const removed = [...r.floorPruned, ...r.pruned];
      return {
        json: { ok: r.replication?.ok ?? true, snapshot: r.snapshot, path: snapshotPath(crypt.paths, r.snapshot.name), floorPruned: r.floorPruned, pruned: r.pruned, replication: r.replication },
        human: `${summarizeSnapshot(r.snapshot)}${removed.length ? `
removed ${removed.join(', ')}` : ''}${r.replication ? `\nreplication ${r.replication.ok ? '' : 'FAILED: '}${r.replication.summary}` : ''}`,
        exitCode: r.replication && !r.replication.ok ? 1 : 0,
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
