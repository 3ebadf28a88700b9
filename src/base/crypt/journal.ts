// The journal: one pending operation, written (fsynced) before it changes anything and cleared when it
// is done, so that after a crash `recoverInterrupted` knows what to finish or undo.
import { unlink, appendFile } from 'node:fs/promises';
import { fsyncDir, writeJsonAtomic } from '../sys/fs.js';
import { RefusedError } from '../errors.js';
import { readTextSafely, UnsafeFileError } from '../sys/read-file.js';
import type { CryptPaths } from './paths.js';
import path from 'node:path';
import type { JournalEntry } from '../../model/journal.js';

/** The type is the model's (the schema checks it there); the journal's readers find it here too. */
export type { JournalEntry } from '../../model/journal.js';

/** A journal is one small JSON object; anything larger is not one the tool wrote. */
const MAX_JOURNAL_BYTES = 64 * 1024;

/**
 * A journal recovery cannot act on: not a regular file of this user (a link, a FIFO, someone else's),
 * too large, not JSON, or not an entry this version knows. Every mutating command refuses (exit 3) rather
 * than guess what was interrupted; `repair` shows it and sets it aside with consent (doctor says so).
 */
export class UnusableJournalError extends RefusedError {
  constructor(
    readonly file: string,
    /** Completes "the journal <file> …". */
    readonly why: string,
    /** The start of its text, for doctor and repair to show (null when it was not read). */
    readonly preview: string | null,
  ) {
    super(`the journal ${file} ${why}: recovery cannot tell what was interrupted; nothing was changed`, {
      hint: 'Run `lychd-crypt repair`: it shows the journal, sets it aside (after asking) and checks what an interrupted operation may have left.',
    });
  }
}

const previewOf = (text: string): string => (text.length > 200 ? `${text.slice(0, 200)}…` : text).replace(/\s+/g, ' ').trim();

/** The pending entry, or undefined when there is none; an UnusableJournalError for anything else. */
export async function readJournal(paths: CryptPaths): Promise<JournalEntry | undefined> {
  const file = paths.journal;
  let text: string | undefined;
  try {
    // This user's own file only: a journal someone else could have written is never acted on.
    text = await readTextSafely(file, { maxBytes: MAX_JOURNAL_BYTES, owners: [process.getuid?.() ?? 0] });
  } catch (e) {
    if (e instanceof UnsafeFileError) throw new UnusableJournalError(file, e.why, null);
    throw e;
  }
  if (text === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UnusableJournalError(file, `is not JSON (${(e as Error).message})`, previewOf(text));
  }
  // The schema (and zod with it) is loaded only now: almost every command finds no journal at all.
  const parsed = (await import('./journal-schema.js')).parseJournal(data);
  if ('problem' in parsed) throw new UnusableJournalError(file, `is not a journal entry this version can act on (${parsed.problem})`, previewOf(text));
  return parsed.entry;
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

/**
 * The pattern of a journaled mutation (docs/journal.md): the entry is durable before the first change and
 * cleared after the last. A crash in between leaves it for the next command's recovery; an error the
 * command reports itself clears it (the command says what was done and what is left).
 */
export async function withJournal<T>(paths: CryptPaths, entry: JournalEntry, fn: () => Promise<T>): Promise<T> {
  await writeJournal(paths, entry);
  try {
    return await fn();
  } finally {
    await clearJournal(paths);
  }
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
