// The journal: one pending operation, written (fsynced) before it changes anything and cleared when it
// is done, so that after a crash `recoverInterrupted` knows what to finish or undo.
import { unlink, appendFile } from 'node:fs/promises';
import { fsyncDir, readJsonIfExists, writeJsonAtomic } from '../core/fs.js';
import type { CryptPaths } from '../crypt/paths.js';
import path from 'node:path';

/** Each operation's entry carries what recovery needs; `phase` is the last step known to be complete. */
export type JournalEntry =
  | {
      op: 'rollback';
      id: string;
      startedAt: string;
      target: string;
      /** Basename of the staging subvolume beside active/ (`.staging-<id>`). */
      staging: string;
      /** Name the replaced state gets under snapshots/ (`<time>-pre-rollback`). */
      preRollbackName: string;
      phase: string;
      /** Whether the database was running before the rollback stopped it (recovery restarts it). */
      wasRunning: boolean;
      /** UUID of the staging subvolume, recorded before the swap: active/ having it means the swap happened. */
      stagedUuid?: string | null;
    }
  | {
      op: 'snapshot';
      id: string;
      startedAt: string;
      name: string;
      phase: string;
    }
  | {
      /** A guarded change (`lychd-crypt run`): interrupted, it is rolled back to `snapshot` (policy `onFailure`). */
      op: 'run';
      id: string;
      startedAt: string;
      /** The "before" snapshot the Ritual took. */
      snapshot: string;
      command: string[];
      onFailure: 'rollback' | 'keep';
      /** started: COMMAND not yet (or just) started; running; checking: health checks pending. */
      phase: string;
      /** COMMAND's pid and start time (/proc/PID/stat field 22): still running means the change is not over. */
      pid?: number;
      pidStart?: string | null;
      /** PostgreSQL was running before the change: a rollback leaves it running. */
      dbWasRunning: boolean;
    }
  | {
      op: 'nocow-rewrite';
      id: string;
      startedAt: string;
      /** Fresh +C copy being built and the old directory kept until the swap is done. */
      staging: string;
      phase: string;
      /** PGDATA and the staging directory, relative to the crypt root (both inside active/). */
      pgdata?: string;
      /** Inode of the verified copy: after a crash, PGDATA having it means the swap happened. */
      newIno?: number;
      /** The database was running and repair stopped it: recovery starts it again. */
      wasRunning?: boolean;
    };

export function readJournal(paths: CryptPaths): Promise<JournalEntry | undefined> {
  return readJsonIfExists<JournalEntry>(paths.journal);
}

export async function writeJournal(paths: CryptPaths, entry: JournalEntry): Promise<void> {
  await writeJsonAtomic(paths.journal, entry, { mode: 0o600 });
  await traceJournal(entry);
}

/**
 * For the power-cut tests: the journal lives outside the crypt (in the state directory), so a replayed
 * image must be paired with the journal as it was at that instant. With LYCHD_CRYPT_JOURNAL_MARKS naming
 * the logging filesystem's control file, each durable journal change is marked in its log, in order with
 * the crypt's writes. Off unless the variable is set.
 */
async function traceJournal(entry: JournalEntry | null): Promise<void> {
  const ctl = process.env.LYCHD_CRYPT_JOURNAL_MARKS;
  if (ctl) await appendFile(ctl, `journal:${entry ? Buffer.from(JSON.stringify(entry)).toString('base64') : '-'}\n`);
}

export async function clearJournal(paths: CryptPaths): Promise<void> {
  try {
    await unlink(paths.journal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await fsyncDir(path.dirname(paths.journal));
  await traceJournal(null);
}
