// `lychd-crypt completion bash|zsh|fish`: prints the completion script made from the command tree.
import type { Command } from 'commander';
import { UsageError } from '../../base/errors.js';
import { describeProgram } from '../docs/describe.js';
import { renderBash, renderFish, renderZsh, SHELLS } from '../docs/completion.js';
import type { CommandOutput } from '../frame/context.js';

export async function runCompletion(args: string[], program: Command): Promise<CommandOutput> {
  const shell = args[0];
  if (!SHELLS.includes(shell as (typeof SHELLS)[number])) throw new UsageError(`completion: expected bash, zsh or fish, got "${shell}"`);
  const doc = describeProgram(program);
  const script = { bash: renderBash, zsh: renderZsh, fish: renderFish }[shell as (typeof SHELLS)[number]](doc);
  return { json: { shell, script }, human: script };
}
