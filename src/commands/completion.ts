// `lychd-crypt completion bash|zsh`: prints the completion script made from the command tree.
import type { Command } from 'commander';
import { UsageError } from '../core/errors.js';
import { describeProgram } from '../docs/describe.js';
import { renderBash, renderZsh } from '../docs/completion.js';
import type { CommandOutput } from '../core/context.js';

export async function runCompletion(args: string[], program: Command): Promise<CommandOutput> {
  const shell = args[0];
  if (shell !== 'bash' && shell !== 'zsh') throw new UsageError(`completion: expected bash or zsh, got "${shell}"`);
  const doc = describeProgram(program);
  const script = shell === 'bash' ? renderBash(doc) : renderZsh(doc);
  return { json: { shell, script }, human: script };
}
