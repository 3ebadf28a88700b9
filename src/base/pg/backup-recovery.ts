// A restored snapshot that carries its own WAL (postgres.walDir, docs/wal.md) starts with backup_label: the
// server recovers from the backup's start to its end-of-backup record. At the start of that recovery
// PostgreSQL records the backup's start in pg_control and renames backup_label to backup_label.old. Cut off
// before the end-of-backup record (a power cut, a kill), the next start has no label, so it is crash
// recovery, which never processes the end of a backup — it stops with "WAL ends before end of online
// backup", every time (found by test/powercut/wal-rollback.test.ts). Putting the label back makes it start
// that same backup recovery again, from the same checkpoint, which the backup's WAL still holds: what a cut
// just before the rename would have left. Only when the label and pg_control name the same backup start.
import path from 'node:path';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { asUser, type Runner } from '../runner.js';
import { readTextSafely } from '../sys/read-file.js';
import { throughUserns } from '../userns/tree.js';
import { pgProgram } from './bin.js';

export interface BackupRecoveryFacts {
  /** pg_controldata's "Database cluster state". */
  state: string | null;
  /** "Backup start location" (null: 0/0, none). */
  backupStart: string | null;
  /** "End-of-backup record required". */
  endRequired: boolean;
}

export function parseBackupRecovery(text: string): BackupRecoveryFacts {
  const field = (key: string): string | null => new RegExp(`^${key}:\\s*(.+)$`, 'm').exec(text)?.[1]?.trim() ?? null;
  const start = field('Backup start location');
  return { state: field('Database cluster state'), backupStart: start && start !== '0/0' ? start : null, endRequired: field('End-of-backup record required') === 'yes' };
}

/** The backup start a label names ("START WAL LOCATION: 0/2000028 (file …)"), or null. */
export function labelStart(label: string): string | null {
  return /^START WAL LOCATION: ([0-9A-F]+\/[0-9A-F]+) /m.exec(label)?.[1] ?? null;
}

/** Whether the label should be put back: recovery of exactly the backup the old label names was cut off. */
export function interruptedBackupRecovery(f: BackupRecoveryFacts, oldLabel: string | null, hasLabel: boolean): boolean {
  if (hasLabel || oldLabel === null || !f.endRequired || f.backupStart === null) return false;
  if (f.state !== 'in archive recovery' && f.state !== 'in crash recovery') return false;
  return labelStart(oldLabel) === f.backupStart;
}

/**
 * Puts backup_label back when the server's recovery of its backup was cut off (see above); true when it did.
 * Reads pg_controldata as the server's user, and renames as that user (PGDATA is theirs). Without
 * pg_controldata, or for PGDATA in a user namespace, nothing is done.
 */
export async function resumeBackupRecovery(runner: Runner, binDir: string | null, pgdata: string, owner: { uid: number; gid: number }): Promise<boolean> {
  if (!binDir || throughUserns(pgdata)) return false;
  const oldLabel = await readTextSafely(path.join(pgdata, 'backup_label.old'), { maxBytes: 64 * 1024 }).catch(() => undefined);
  if (oldLabel === undefined) return false;
  const hasLabel = (await readTextSafely(path.join(pgdata, 'backup_label'), { maxBytes: 64 * 1024 }).catch(() => undefined)) !== undefined;
  const tool = pgProgram(binDir, 'pg_controldata');
  if (!(await access(tool, constants.X_OK).then(() => true, () => false))) return false;
  const r = await runner.run(asUser(owner, [tool, '-D', pgdata]), { allowFailure: true });
  if (!interruptedBackupRecovery(parseBackupRecovery(r.stdout), oldLabel, hasLabel)) return false;
  await runner.run(asUser(owner, ['mv', '--no-clobber', '--no-target-directory', path.join(pgdata, 'backup_label.old'), path.join(pgdata, 'backup_label')]));
  return true;
}
