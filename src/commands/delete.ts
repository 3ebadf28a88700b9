// `lychd-crypt delete` (not implemented yet).
import { CryptError } from '../core/errors.js';
import type { CommandContext, CommandOutput } from './context.js';

export async function runDelete(_args: string[], _opts: Record<string, unknown>, _ctx: CommandContext): Promise<CommandOutput> {
  throw new CryptError('delete is not implemented yet');
}
