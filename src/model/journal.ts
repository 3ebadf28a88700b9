// What the journal (<crypt>/.lychd-crypt/journal.json) records of an operation in progress, one entry at a
// time: enough for recovery to finish or undo it after a crash. Read and written by base/crypt/journal.ts,
// checked by base/crypt/journal-schema.ts.

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
      /** `lychd-crypt restore`: copies received from a target into the crypt, before the rollback to the last. */
      op: 'restore';
      id: string;
      startedAt: string;
      /** The target as people read it (a URL). */
      from: string;
      /** The snapshots to receive, in order (each the parent of the next). */
      names: string[];
      /** Those already received into snapshots/ with their metadata (complete snapshots). */
      received: string[];
      phase: string;
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
