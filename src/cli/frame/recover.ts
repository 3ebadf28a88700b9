// Finishes or undoes an operation interrupted by a crash, as recorded in the journal: the recovery table.
// Every mutating command runs it first (under the lock, cli/frame/mutate.ts), and repair's
// recover-interrupted step is handed it. It sits at the top because it knows an operation of every layer
// (rollback, snapshot, run in the runtime, the nocow rewrite in care); each operation kind owns its recovery.
import type { OpenCrypt } from '../../base/crypt/open.js';
import { readJournal, UnusableJournalError, type JournalEntry } from '../../base/crypt/journal.js';
import { recoverRollback } from '../../runtime/rollback/recover.js';
import { recoverSnapshot } from '../../runtime/ritual/recover.js';
import { recoverNocowRewrite } from '../../care/nocow-recover.js';
import { recoverRun, recoverRunRollback } from '../../runtime/run/recover.js';
import { recoverDelete } from '../../runtime/snapshots/remove.js';
import { recoverAnnotate } from '../../runtime/snapshots/annotate.js';
import { hookedOperations } from './hooks.js';
import type { CommandContext } from './context.js';

export interface RecoveryReport {
  /** What was found and done, one line each; empty when the journal was clean. */
  actions: string[];
  /** The entry that was finished or undone (a command may be repeating what it interrupted). */
  entry?: JournalEntry;
}

type Handler<K extends JournalEntry['op']> = (
  entry: Extract<JournalEntry, { op: K }>,
  crypt: OpenCrypt,
  ctx: CommandContext,
) => Promise<string[]>;

const handlers: { [K in JournalEntry['op']]: Handler<K> } = {
  rollback: recoverRollback,
  snapshot: recoverSnapshot,
  'nocow-rewrite': recoverNocowRewrite,
  // An interrupted guarded run goes back through the rollback with the crypt's hooks, as a failed one does.
  run: (entry, crypt, ctx) => recoverRun(entry, crypt, ctx, hookedOperations(crypt, ctx)),
  // A guarded run's own rollback: finished, or started again (with the hooks) — never undone.
  'run-rollback': (entry, crypt, ctx) => recoverRunRollback(entry, crypt, ctx, hookedOperations(crypt, ctx)),
  delete: recoverDelete,
  annotate: recoverAnnotate,
};

export interface RecoverOptions {
  /** repair: an unusable journal is its own finding (set aside with consent), not a refusal here. */
  leaveUnusable?: boolean;
}

/** What heals a crypt before a mutating command acts: the recovery table, or (tests, tools) another. */
export type Heal = (crypt: OpenCrypt, ctx: CommandContext, opts?: RecoverOptions) => Promise<RecoveryReport>;

export async function recoverInterrupted(crypt: OpenCrypt, ctx: CommandContext, opts: RecoverOptions = {}): Promise<RecoveryReport> {
  const entry = await readJournal(crypt.paths).catch((e: unknown) => {
    if (opts.leaveUnusable && e instanceof UnusableJournalError) return undefined;
    throw e;
  });
  if (!entry) return { actions: [] };
  const handler = handlers[entry.op] as Handler<typeof entry.op>;
  return { actions: await handler(entry as never, crypt, ctx), entry };
}
