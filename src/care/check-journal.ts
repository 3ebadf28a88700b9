// journal.pending: an operation was interrupted (crash, kill -9, power cut) and is still recorded.
import path from 'node:path';
import { readJsonIfExists } from '../base/sys/fs.js';
import { MIGRATION_MARKER } from '../base/crypt/paths.js';
import { UnusableJournalError, type JournalEntry } from '../base/crypt/journal.js';
import { fixable, manual, ok, type Check } from './findings.js';
import type { Config } from '../model/config.js';
import { formatSize } from '../model/units.js';
import { readCapacityJournal } from '../runtime/capacity/journal.js';

/** holder: the PID holding the crypt lock (the operation is running, not interrupted), or null. */
export function checkJournal(entry: JournalEntry | UnusableJournalError | undefined, holder: number | null = null): Check {
  const id = 'journal.pending';
  if (entry instanceof UnusableJournalError) {
    return fixable(
      id,
      `the journal ${entry.file} ${entry.why}${entry.preview !== null ? `; it reads: ${entry.preview}` : ''}`,
      'set it aside (repair asks first; the file is kept beside it), then look again at what an interrupted operation may have left',
      [{ kind: 'set-aside', path: entry.file, why: 'the unusable journal' }],
    );
  }
  if (holder !== null) {
    return ok(id, entry ? `a ${entry.op} (${entry.id}, started ${entry.startedAt}, phase ${entry.phase}) is in progress (pid ${holder} holds the lock)` : `an operation is in progress (pid ${holder} holds the lock)`);
  }
  if (!entry) return ok(id, 'no interrupted operation');
  return fixable(id, `an interrupted ${entry.op} (${entry.id}, started ${entry.startedAt}, phase ${entry.phase}) is pending`, `finish or undo the ${entry.op} (also done by the next mutating command)`, [
    { kind: 'recover-interrupted', op: entry.op, id: entry.id, phase: entry.phase },
  ]);
}

/**
 * journal.capacity: a resize or migrate (root's capacity journal, runtime/capacity/journal.ts) was
 * interrupted. Only root can read it, and only root finishes it (repair, or the command again); anyone
 * else is told nothing they cannot act on.
 */
export async function checkCapacityJournal(config: Config, holder: number | null = null): Promise<Check> {
  const id = 'journal.capacity';
  if (process.getuid?.() !== 0) return ok(id, 'root\'s capacity journal (resize, migrate) is checked by root');
  const entry = await readCapacityJournal(config).catch((e: unknown) => e as Error);
  if (entry instanceof Error) return manual(id, entry.message, 'look at it, remove it, and run the resize or migrate again');
  if (!entry) return ok(id, 'no interrupted resize or migration');
  if (holder !== null) return ok(id, `a ${entry.op} is in progress (pid ${holder} holds the lock)`);
  const what = entry.op === 'resize' ? `resize to ${formatSize(entry.toBytes)}` : `migration onto ${entry.device}`;
  return manual(id, `an interrupted ${what} (${entry.id}, started ${entry.startedAt}) is pending`, `run \`lychd-crypt repair\` (or \`lychd-crypt ${entry.op}\` again) as root: it finishes it`);
}

/** journal.migration: init moved the original data aside (native) and had not finished copying it in. */
export async function checkMigration(root: string): Promise<Check> {
  const id = 'journal.migration';
  const marker = await readJsonIfExists<{ from?: string }>(path.join(root, MIGRATION_MARKER)).catch(() => ({ from: undefined }));
  if (!marker) return ok(id, 'no interrupted data migration');
  return manual(id, `init was interrupted while copying the original data into active/ (the original is kept at ${marker.from ?? '(see the marker)'})`, 'run `lychd-crypt init` again with the same answers: it finishes the copy');
}
