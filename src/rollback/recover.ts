// Recovery of an interrupted `rollback` operation (see src/recover/recover.ts). Not implemented yet.
import type { CommandContext } from '../commands/context.js';
import type { OpenCrypt } from '../crypt/open.js';
import { CryptError } from '../core/errors.js';
import type { JournalEntry } from '../recover/journal.js';

export async function recoverRollback(
  entry: Extract<JournalEntry, { op: 'rollback' }>,
  _crypt: OpenCrypt,
  _ctx: CommandContext,
): Promise<string[]> {
  throw new CryptError(`an interrupted rollback (${entry.id}) cannot be recovered by this version yet`);
}
