// `lychd-crypt init` (not implemented yet).
import { CryptError } from '../core/errors.js';
import type { CommandContext, CommandOutput } from './context.js';

export async function runInit(_args: string[], _opts: Record<string, unknown>, _ctx: CommandContext): Promise<CommandOutput> {
  throw new CryptError('init is not implemented yet');
}
