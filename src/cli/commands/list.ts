// `lychd-crypt list`: snapshots, newest first. Read-only: takes no lock. The --json schema is documented
// in docs/snapshots.md and only grows (new keys), never changes meaning.
import { lockHolder } from '../../base/crypt/lock-holder.js';
import { withCrypt } from '../../base/crypt/open.js';
import { readCatalog, type CatalogEntry } from '../../runtime/snapshots/catalog.js';
import { readSnapshotDir } from '../../runtime/snapshots/meta.js';
import { newestFirst } from '../../runtime/snapshots/order.js';
import { isSnapshotName } from '../../runtime/snapshots/names.js';
import { formatTime } from '../../base/output/time.js';
import { painter, type Painter } from '../../base/output/style.js';
import { humanSize } from '../../model/units.js';
import { cryptRequest, type CommandContext, type CommandOutput } from '../frame/context.js';

export const LIST_FORMAT = 1;

export function listEntryJson(e: CatalogEntry): Record<string, unknown> {
  const m = e.meta;
  return {
    name: m.name,
    createdAt: m.createdAt,
    label: m.label,
    mode: m.mode,
    origin: m.origin.kind,
    rollbackTo: m.origin.kind === 'pre-rollback' ? m.origin.rollbackTo : null,
    exclusiveBytes: e.exclusiveBytes,
    postgres: m.postgres
      ? {
          versionNum: m.postgres.versionNum,
          major: m.postgres.major ?? (m.postgres.versionNum ? Math.floor(m.postgres.versionNum / 10000) : null),
          systemIdentifier: m.postgres.systemIdentifier,
          startLsn: m.postgres.startLsn,
          stopLsn: m.postgres.stopLsn,
          ...(m.postgres.wal ? { wal: m.postgres.wal } : {}),
        }
      : null,
    btrfs: m.btrfs,
    toolVersion: m.toolVersion,
    pinned: m.pinned === true,
  };
}


/**
 * Columns padded to their widest cell; the last column (the label) is cut with … so every line fits
 * `columns` (a terminal's width; undefined: a pipe, nothing is cut). The header is painted after padding.
 */
export function table(rows: string[][], columns?: number, paint: Painter = (_c, t) => t): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lead = widths.slice(0, -1).reduce((a, w) => a + w + 2, 0);
  const room = columns === undefined ? Infinity : Math.max(columns - 1 - lead, 8);
  const cut = (s: string) => (s.length > room ? `${s.slice(0, room - 1)}…` : s);
  return rows
    .map((r, i) => {
      const line = r.map((cell, c) => (c === r.length - 1 ? cut(cell) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
      return i === 0 ? paint('bold', line) : line;
    })
    .join('\n');
}

export async function runList(_args: string[], opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  if (opts.names) {
    // What shell completion asks for: names only, newest first, without sizes or warnings.
    return withCrypt(ctx, cryptRequest(ctx), async (crypt) => {
      // Only names of the grammar, checked again here: a shell reads this line by line (src/cli/docs/completion.ts).
      const names = newestFirst((await readSnapshotDir(crypt.paths)).complete).map((m) => m.name).filter(isSnapshotName);
      return { json: { names }, human: names.join('\n') };
    });
  }
  return withCrypt(ctx, cryptRequest(ctx), async (crypt) => {
  const catalog = await readCatalog(crypt.paths, ctx.runner, { sizes: true, du: Boolean(opts.sizes) });
  // A snapshot being taken right now has no metadata yet: while the lock is held it is in progress, not incomplete.
  const holder = catalog.incomplete.length ? await lockHolder(ctx.runner, crypt.paths.lock).catch(() => null) : null;
  if (catalog.incomplete.length && holder !== null) {
    ctx.log.info(`${catalog.incomplete.length} snapshot(s) in progress (pid ${holder} holds the crypt lock): ${catalog.incomplete.join(', ')}`);
  } else if (catalog.incomplete.length) {
    ctx.log.warn(`ignoring ${catalog.incomplete.length} incomplete snapshot(s) without metadata (${catalog.incomplete.join(', ')}); \`lychd-crypt doctor\` tells a half-made one (repair removes it) from one that lost its file (repair rebuilds it)`);
  }
  if (catalog.unreadable.length) {
    ctx.log.warn(`ignoring ${catalog.unreadable.length} snapshot(s) whose metadata cannot be read: ${catalog.unreadable.join(', ')}`);
  }
  if (catalog.foreign) {
    ctx.log.warn(`ignoring ${catalog.foreign} entr${catalog.foreign === 1 ? 'y' : 'ies'} of snapshots/ that ${catalog.foreign === 1 ? 'is' : 'are'} not a snapshot; \`lychd-crypt doctor\` names them`);
  }
  const json = { format: LIST_FORMAT, crypt: crypt.paths.root, snapshots: catalog.entries.map(listEntryJson) };
  const sizes = catalog.entries.some((e) => e.exclusiveBytes !== null);
  const header = ['NAME', 'TIME', 'MODE', ...(sizes ? ['EXCLUSIVE'] : []), 'POSTGRES', 'LABEL'];
  const rows = catalog.entries.map((e) => {
    const pg = e.meta.postgres;
    // The major version for every mode: cold and rebuilt snapshots know no more (the JSON has versionNum).
    const major = pg ? (pg.major ?? (pg.versionNum ? Math.floor(pg.versionNum / 10000) : null)) : null;
    const version = major ? String(major) : '-';
    const base = e.meta.origin.kind === 'pre-rollback' ? `${e.meta.label ?? ''} (before rollback to ${e.meta.origin.rollbackTo})`.trim() : (e.meta.label ?? '');
    // With an outside WAL a restore ends at the backup's stop LSN, not at the instant of the Btrfs snapshot.
    const restore = pg?.wal?.restorePoint ? ` [restore point: stop LSN ${pg.wal.restorePoint}]` : '';
    const label = `${e.meta.pinned ? `[pinned] ${base}`.trim() : base}${restore}`.trim();
    return [e.meta.name, formatTime(e.meta.createdAt), e.meta.mode, ...(sizes ? [e.exclusiveBytes === null ? '-' : humanSize(e.exclusiveBytes)] : []), version, label];
  });
  const human = rows.length ? table([header, ...rows], ctx.columns, painter(ctx.colour)) : `no snapshots in ${crypt.paths.snapshots}`;
  return { json, human };
  });
}
