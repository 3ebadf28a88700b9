// The steps of a rollback, in order, as people read them: what --dry-run prints and the confirmation shows.
import { stateDirFor } from '../../base/crypt/paths.js';
import type { Config } from '../../model/config.js';
import type { RunIntent } from '../../model/journal.js';
import type { OwnerMap } from '../restore/ids.js';

export interface RollbackPlan {
  target: string;
  preRollbackName: string;
  staging: string;
  active: string;
  dbRunning: boolean;
  /** A restore from another host: the staging copy's files get this host's owners (runtime/restore/ids.ts). */
  owners?: OwnerMap | null;
  /** The target was received from another host (restore): PGDATA's missing C attribute is set again, not refused. */
  restored?: boolean;
  steps: string[];
  /** Set when a guarded run rolls back: its journal entry is then a run-rollback, never undone by recovery. */
  intent?: RunIntent;
}

export function describeRollbackSteps(config: Config, p: Omit<RollbackPlan, 'steps' | 'intent'>): string[] {
  const pg = config.postgres;
  const service = pg?.service.kind ?? 'none';
  const steps = [`write the journal entry (${stateDirFor(config)}/journal.json)`];
  if (p.dbRunning) steps.push(`stop PostgreSQL through postgres.service (${service}) and confirm the postmaster is gone`);
  steps.push(
    `snapshot ${config.crypt.path}/snapshots/${p.target} as ${p.staging}  (a writable staging copy: one BTRFS_IOC_SNAP_CREATE_V2, what \`btrfs subvolume snapshot\` does)`,
    ...(p.owners ? [`give the staging copy's files this host's owners (${[...p.owners.uids.map(([a, b]) => `uid ${a}→${b}`), ...p.owners.gids.map(([a, b]) => `gid ${a}→${b}`)].join(', ')}): chown -R -h --from`] : []),
    'remove postmaster.pid, recovery.signal, standby.signal, backup_label from the staging PGDATA (a snapshot that carries its own WAL copy keeps its backup_label); check its C attribute, owner and mode',
  );
  if (pg?.walDir) {
    steps.push(`fill a fresh WAL generation ${pg.walDir}/gen-<UUID of the staging copy> from the snapshot's own pg_wal only, and link the staging PGDATA's pg_wal to it (journaled)`);
  }
  steps.push(
    `renameat2(RENAME_EXCHANGE) ${p.staging} <-> ${p.active}  (one atomic swap)`,
    `move the replaced state to snapshots/${p.preRollbackName}, make it read-only, write its metadata`,
  );
  if (pg?.walDir) {
    steps.push(`before it is made read-only: keep the WAL the replaced state needs (its last checkpoint's REDO segment on) in its own pg_wal, in place of its link`);
    steps.push(`remove the replaced state's WAL generation under ${pg.walDir} (it is kept in snapshots/${p.preRollbackName})`);
  }
  if (p.dbRunning) steps.push('start PostgreSQL the same way, wait until it accepts connections and pg_is_in_recovery() is false');
  steps.push('clear the journal');
  return steps;
}
