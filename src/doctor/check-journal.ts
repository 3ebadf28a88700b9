// journal.pending: an operation was interrupted (crash, kill -9, power cut) and is still recorded.
import type { JournalEntry } from '../recover/journal.js';
import { fixable, ok, type Check } from './types.js';

export function checkJournal(entry: JournalEntry | undefined): Check {
  const id = 'journal.pending';
  if (!entry) return ok(id, 'no interrupted operation');
  return fixable(id, `an interrupted ${entry.op} (${entry.id}, started ${entry.startedAt}, phase ${entry.phase}) is pending`, `finish or undo the ${entry.op} (also done by the next mutating command)`, [
    { kind: 'recover-interrupted', op: entry.op, id: entry.id, phase: entry.phase },
  ]);
}
