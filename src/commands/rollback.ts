// `lychd-crypt rollback` (not implemented yet).
import { CryptError } from '../core/errors.js';
import type { CommandContext, CommandOutput } from './context.js';

export async function runRollback(_args: string[], _opts: Record<string, unknown>, _ctx: CommandContext): Promise<CommandOutput> {
  throw new CryptError('rollback is not implemented yet');
}
