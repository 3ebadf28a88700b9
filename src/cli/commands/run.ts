// `lychd-crypt run [--label L] [--check CMD]... [--check-sql SQL] [--timeout D] [--on-failure rollback|keep]
// -- COMMAND ARGS…`: a guarded change (src/runtime/run/guarded.ts), under the crypt lock.
import { mutateCrypt } from '../frame/mutate.js';
import { performGuardedRun, summarizeRun } from '../../runtime/run/guarded.js';
import { parseRunOptions } from '../../runtime/run/options.js';
import { hookedOperations } from '../frame/hooks.js';
import type { CommandContext, CommandOutput } from '../frame/context.js';

export async function runRun(args: string[], opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  // Bad input fails before the lock is taken or anything is touched.
  const options = { ...parseRunOptions(args, opts), stdoutToStderr: ctx.globals.json };
  return mutateCrypt(ctx, async (crypt) => {
    const report = await performGuardedRun(crypt, ctx, options, hookedOperations(crypt, ctx));
    return { json: report, human: summarizeRun(report, crypt.shown), exitCode: report.exitCode };
  });
}
