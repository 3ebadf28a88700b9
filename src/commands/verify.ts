// `lychd-crypt verify` (not implemented yet).
import { CryptError } from '../core/errors.js';
import type { CommandContext, CommandOutput } from './context.js';

export async function runVerify(_args: string[], _opts: Record<string, unknown>, _ctx: CommandContext): Promise<CommandOutput> {
  throw new CryptError('verify is not implemented yet');
}
