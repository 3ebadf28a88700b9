// Runs the configured hooks of one phase, in order, each as an argv (no shell) with a time limit and the
// snapshot and phase in its environment. A pre-hook failing stops there (the caller changes nothing); a
// post-hook failing is reported and the next one still runs.
import { CryptError } from '../../base/errors.js';
import { runChild } from './child.js';
import type { HookPhase, HooksConfig } from '../../model/config.js';
import type { OpContext } from '../../base/context.js';

export interface HookEnv {
  LYCHD_CRYPT_PATH: string;
  LYCHD_SNAPSHOT: string;
  [k: string]: string;
}

async function runOne(argv: string[], phase: HookPhase, hooks: HooksConfig, env: HookEnv, ctx: OpContext): Promise<string | null> {
  const o = await runChild(argv, {
    env: { ...ctx.env, ...env, LYCHD_PHASE: phase },
    timeoutMs: hooks.timeout * 1000,
    // A hook's output is diagnostics: it goes to stderr, stdout stays the command's (and one JSON document).
    stdoutToStderr: true,
  });
  if (o.timedOut) return `it did not finish within ${hooks.timeout}s and was stopped`;
  if (o.spawnError) return `it could not be started: ${o.spawnError}`;
  if (o.exitCode !== 0) return o.signal ? `it was killed by ${o.signal}` : `it exited with status ${o.exitCode}`;
  return null;
}

export async function runPreHooks(hooks: HooksConfig, phase: 'preSnapshot' | 'preRollback', env: HookEnv, ctx: OpContext): Promise<void> {
  for (const argv of hooks[phase]) {
    const why = await runOne(argv, phase, hooks, env, ctx);
    if (why) {
      throw new CryptError(`the ${phase} hook \`${argv.join(' ')}\` failed: ${why}; nothing was changed`, {
        hint: 'Fix the hook (hooks: in the crypt configuration) or what it checks, and run again.',
      });
    }
  }
}

export async function runPostHooks(hooks: HooksConfig, phase: 'postSnapshot' | 'postRollback', env: HookEnv, ctx: OpContext): Promise<string[]> {
  const failures: string[] = [];
  for (const argv of hooks[phase]) {
    const why = await runOne(argv, phase, hooks, env, ctx);
    if (why) {
      const line = `the ${phase} hook \`${argv.join(' ')}\` failed: ${why}`;
      ctx.log.warn(line);
      failures.push(line);
    }
  }
  return failures;
}
