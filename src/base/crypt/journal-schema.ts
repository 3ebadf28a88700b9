// What a journal entry must look like before recovery acts on it (model/journal.ts's types, checked):
// an entry with a field missing, of the wrong type, an unknown operation or a name that climbs out of the
// crypt is refused as a whole, never half-used. Loaded only when a journal file exists.
import { array, boolean, discriminatedUnion, enum as oneOf, int, literal, minLength, nullable, number, optional, positive, regex, strictObject, string, type ZodMiniType } from 'zod/mini';
import { firstProblem, innerPath, isoTime, plainName } from '../state-schema.js';
import type { JournalEntry } from '../../model/journal.js';

/** A WAL generation's directory name (base/wal/placement.ts): removed only by such a name, never a path. */
const genName = string().check(regex(/^gen-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/));

const common = { id: plainName, startedAt: isoTime, phase: string().check(minLength(1)) };
/** A rollback's own fields, also carried by the rollback of a failed guarded run. */
const rollback = { target: plainName, staging: plainName, preRollbackName: plainName, wasRunning: boolean(), stagedUuid: optional(nullable(string())), oldWalGen: optional(nullable(genName)) };

const entrySchema: ZodMiniType<JournalEntry> = discriminatedUnion('op', [
  strictObject({ op: literal('rollback'), ...common, ...rollback }),
  strictObject({ op: literal('snapshot'), ...common, name: plainName }),
  strictObject({
    op: literal('run'),
    ...common,
    snapshot: plainName,
    command: array(string()),
    onFailure: oneOf(['rollback', 'keep']),
    pid: optional(number().check(int(), positive())),
    pidStart: optional(nullable(string())),
    dbWasRunning: boolean(),
    failure: optional(string()),
  }),
  strictObject({ op: literal('restore'), ...common, from: string(), names: array(plainName), received: array(plainName) }),
  strictObject({
    op: literal('nocow-rewrite'),
    ...common,
    staging: innerPath,
    pgdata: optional(innerPath),
    newIno: optional(number().check(int(), positive())),
    wasRunning: optional(boolean()),
  }),
  strictObject({
    op: literal('run-rollback'),
    ...common,
    ...rollback,
    run: strictObject({
      id: plainName,
      command: array(string()),
      snapshot: plainName,
      dbWasRunning: boolean(),
      outcome: oneOf(['failed', 'unknown']),
      failure: nullable(string()),
    }),
  }),
  strictObject({ op: literal('delete'), ...common, by: oneOf(['delete', 'prune', 'scheduled']), names: array(plainName) }),
  strictObject({ op: literal('annotate'), ...common, name: plainName, pinned: optional(boolean()), label: optional(nullable(string())) }),
]);

/** The entry, or what is wrong with it (one line). */
export function parseJournal(data: unknown): { entry: JournalEntry } | { problem: string } {
  const r = entrySchema.safeParse(data);
  return r.success ? { entry: r.data } : { problem: firstProblem(r.error, data) };
}
