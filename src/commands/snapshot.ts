// `lychd-crypt snapshot` (not implemented yet).
import { CryptError } from '../core/errors.js';
import type { CommandContext, CommandOutput } from './context.js';

export async function runSnapshot(_args: string[], _opts: Record<string, unknown>, _ctx: CommandContext): Promise<CommandOutput> {
  throw new CryptError('snapshot is not implemented yet');
}
