// What the journal (<crypt>/.lychd-crypt/journal.json) records of an operation in progress, one entry at a
// time: enough for recovery to finish or undo it after a crash. Read and written by base/crypt/journal.ts,
// checked by base/crypt/journal-schema.ts.

/** A rollback's journal fields (op rollback, and the rollback of a failed guarded run). */
export interface RollbackFields {
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
  /** With an outside WAL: the generation the replaced state's pg_wal linked to (removed once it is kept). */
  oldWalGen?: string | null;
}

/** Each operation's entry carries what recovery needs; `phase` is the last step known to be complete. */
export type JournalEntry =
  | ({ op: 'rollback' } & RollbackFields)
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
      /**
       * started: COMMAND not yet (or just) started; running; checking: health checks pending; failed: the
       * change failed (`failure` says how) and its rollback is about to begin.
       */
      phase: string;
      /** COMMAND's pid and start time (/proc/PID/stat field 22): still running means the change is not over. */
      pid?: number;
      pidStart?: string | null;
      /** PostgreSQL was running before the change: a rollback leaves it running. */
      dbWasRunning: boolean;
      /** Phase failed: what failed, one line. */
      failure?: string;
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
    }
  | ({
      /**
       * The rollback a guarded run starts to go back to its "before" snapshot (after a failure, or when
       * recovery finds the run interrupted): a rollback entry that keeps the run's intent, so that recovery
       * finishes it or starts it again — never undoes it, which would leave the failed change live.
       */
      op: 'run-rollback';
      /** The guarded run this rollback ends (its target is the run's "before" snapshot). */
      run: RunIntent;
    } & RollbackFields)
  | {
      /**
       * delete, prune and the scheduled run's pruning: the snapshots being removed (each subvolume, then its
       * metadata). Recovery finishes the removal of every one still there: the removal was decided.
       */
      op: 'delete';
      id: string;
      startedAt: string;
      phase: string;
      /** The command that removes them (delete, prune, scheduled): for the message only. */
      by: string;
      names: string[];
    }
  | {
      /** pin, unpin, label: one change of a snapshot's metadata; recovery applies it again (idempotent). */
      op: 'annotate';
      id: string;
      startedAt: string;
      phase: string;
      name: string;
      /** The change: the pin to set, and/or the label (null removes it). */
      pinned?: boolean;
      label?: string | null;
    };

/** What a guarded run wants of its rollback, carried by the rollback's own journal entry. */
export interface RunIntent {
  /** The guarded run's journal id (its LYCHD_RUN_ID). */
  id: string;
  command: string[];
  /** The "before" snapshot: where the crypt must end. */
  snapshot: string;
  /** PostgreSQL ran before the change: it runs after the rollback too. */
  dbWasRunning: boolean;
  /** failed: COMMAND or a check failed (`failure`); unknown: interrupted before its outcome was known. */
  outcome: 'failed' | 'unknown';
  failure: string | null;
}
