// Recovery of an interrupted `snapshot` operation (see src/recover/recover.ts). Not implemented yet.
import type { CommandContext } from '../commands/context.js';
import type { OpenCrypt } from '../crypt/open.js';
import { CryptError } from '../core/errors.js';
import type { JournalEntry } from '../recover/journal.js';

export async function recoverSnapshot(
  entry: Extract<JournalEntry, { op: 'snapshot' }>,
  _crypt: OpenCrypt,
  _ctx: CommandContext,
): Promise<string[]> {
  throw new CryptError(`an interrupted snapshot (${entry.id}) cannot be recovered by this version yet`);
}
