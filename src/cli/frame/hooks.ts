// Snapshot and rollback with the crypt's hooks around them, for the commands and handed as Operations to the
// runtime operations that snapshot or roll back on their way. Post-hooks run whenever the pre-hooks began
// — after a failure too, a failing pre-hook included — so a "freeze" pair (close admission / open it)
// always reopens; they see LYCHD_RESULT=ok or failed.
import type { OpenCrypt } from '../../base/crypt/open.js';
import { performRitual, type RitualOptions } from '../../runtime/ritual/ritual.js';
import { performRollback, type RollbackResult } from '../../runtime/rollback/run.js';
import type { RollbackPlan } from '../../runtime/rollback/steps.js';
import type { SnapshotMeta } from '../../runtime/snapshots/meta.js';
import { baseName, uniqueName } from '../../runtime/snapshots/names.js';
import { takenNames } from '../../runtime/snapshots/taken.js';
import { runPostHooks, runPreHooks, type HookEnv } from '../../runtime/run/hooks.js';
import type { Operations } from '../../runtime/operations.js';
import type { CommandContext } from './context.js';

async function around<T>(crypt: OpenCrypt, ctx: CommandContext, kind: 'Snapshot' | 'Rollback', env: HookEnv, fn: () => Promise<T>): Promise<T> {
  const hooks = crypt.config.hooks;
  if (!hooks) return fn();
  let result = 'failed';
  try {
    await runPreHooks(hooks, `pre${kind}`, env, ctx);
    const r = await fn();
    result = 'ok';
    return r;
  } finally {
    await runPostHooks(hooks, `post${kind}`, { ...env, LYCHD_RESULT: result }, ctx);
  }
}

/** The Ritual between preSnapshot and postSnapshot; the hooks know the name it will have. */
export async function snapshotWithHooks(crypt: OpenCrypt, ctx: CommandContext, opts: RitualOptions): Promise<SnapshotMeta> {
  if (!crypt.config.hooks) return performRitual(crypt, ctx, opts);
  // Under the lock no one else names a snapshot: the name computed now is the one the Ritual takes.
  const now = (opts.now ?? (() => new Date()))();
  const taken = await takenNames(crypt.paths.snapshots);
  const name = uniqueName(baseName(now, opts.label), (n) => taken.has(n));
  return around(crypt, ctx, 'Snapshot', { LYCHD_CRYPT_PATH: crypt.shown, LYCHD_SNAPSHOT: name }, () => performRitual(crypt, ctx, { ...opts, now: () => now }));
}

/** A rollback between preRollback and postRollback; LYCHD_SNAPSHOT is the target, LYCHD_PRE_ROLLBACK the kept state. */
export function rollbackWithHooks(crypt: OpenCrypt, ctx: CommandContext, plan: RollbackPlan): Promise<RollbackResult> {
  return around(crypt, ctx, 'Rollback', { LYCHD_CRYPT_PATH: crypt.shown, LYCHD_SNAPSHOT: plan.target, LYCHD_PRE_ROLLBACK: plan.preRollbackName }, () =>
    performRollback(crypt, ctx, plan),
  );
}

/** Snapshot and rollback of this crypt with its hooks, for the operations that take them on their way. */
export function hookedOperations(crypt: OpenCrypt, ctx: CommandContext): Operations {
  return { snapshot: (opts) => snapshotWithHooks(crypt, ctx, opts), rollback: (plan) => rollbackWithHooks(crypt, ctx, plan) };
}
