// Finishes or undoes an operation interrupted by a crash, as recorded in the journal. Every mutating
// command runs this first (under the lock), and so does `repair`.
import type { CommandContext } from '../commands/context.js';
import type { OpenCrypt } from '../crypt/open.js';

export interface RecoveryReport {
  /** What was found and done, one line each; empty when the journal was clean. */
  actions: string[];
}

export async function recoverInterrupted(_crypt: OpenCrypt, _ctx: CommandContext): Promise<RecoveryReport> {
  return { actions: [] }; // filled in by the rollback work (journal replay)
}
