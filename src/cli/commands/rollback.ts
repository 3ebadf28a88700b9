// `lychd-crypt rollback NAME [--yes] [--dry-run] [--force]`: atomic, crash-safe, undoable (SPEC section 6).
import { RefusedError, UsageError } from '../../base/errors.js';
import { mutateCrypt } from '../frame/mutate.js';
import { withCrypt, type OpenCrypt } from '../../base/crypt/open.js';
import { planRollback, refuseNested } from '../../runtime/rollback/run.js';
import { rollbackWithHooks } from '../frame/hooks.js';
import { compatibilityProblems, readLiveCluster, refuseIncompatible, resolveTarget } from '../../runtime/rollback/target.js';
import type { RollbackPlan } from '../../runtime/rollback/steps.js';
import { refuseWithoutRoom } from '../../runtime/space/reserve.js';
import { resolveSnapshotArg } from '../../runtime/snapshots/lookup.js';
import { spaceTargetOf } from '../../runtime/space/target.js';
import { cryptRequest, type CommandContext, type CommandOutput } from '../frame/context.js';

async function checkTarget(crypt: OpenCrypt, ctx: CommandContext, name: string, force: boolean) {
  const meta = await resolveTarget(crypt, name);
  const problems = compatibilityProblems(meta, await readLiveCluster(crypt, ctx.runner));
  if (problems.length && !force) refuseIncompatible(name, problems);
  await refuseNested(crypt, ctx);
  return { meta, warnings: problems };
}

function refuseUnstoppable(crypt: OpenCrypt, plan: RollbackPlan): void {
  const pg = crypt.config.postgres;
  if (plan.dbRunning && (!pg || pg.service.kind === 'none')) {
    throw new RefusedError('PostgreSQL is running and postgres.service is none, so the rollback cannot stop it; nothing was changed', {
      hint: 'Stop the database yourself and run the rollback again (it then stays stopped), or configure postgres.service with init.',
    });
  }
}

export async function runRollback(args: string[], opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const input = args[0];
  if (!input) throw new UsageError('rollback needs the name of a snapshot', { hint: 'Run `lychd-crypt list` to see them.' });
  const force = opts.force === true;

  if (opts.dryRun) {
    return withCrypt(ctx, cryptRequest(ctx), async (crypt) => {
      const name = await resolveSnapshotArg(crypt.paths, input);
      const { warnings } = await checkTarget(crypt, ctx, name, force);
      const plan = await planRollback(crypt, name);
      refuseUnstoppable(crypt, plan);
      const human = [`Plan: roll back ${crypt.shown} to ${name} (dry run: nothing is changed)`, ...warnings.map((w) => `warning (--force): ${w}`), ...plan.steps.map((s, i) => `${i + 1}. ${s}`)];
      return { json: { ok: true, dryRun: true, plan, warnings }, human: human.join('\n') };
    });
  }

  return mutateCrypt(ctx, async (crypt) => {
    // A prefix, a label, latest or previous: resolved under the lock, so it names what is rolled back to.
    const name = await resolveSnapshotArg(crypt.paths, input);
    const { meta, warnings } = await checkTarget(crypt, ctx, name, force);
    const plan = await planRollback(crypt, name);
    refuseUnstoppable(crypt, plan);
    await refuseWithoutRoom(spaceTargetOf(crypt), 'rollback');
    if (opts.yes !== true) {
      if (!ctx.interactive) {
        throw new RefusedError(`rollback replaces active/ with ${name}; it needs consent`, { hint: 'Run it again with --yes (or in a terminal to be asked).' });
      }
      const { confirmRollback } = await import('../ui/confirm-rollback.js');
      // Ctrl-C / Escape: CancelledError (exit 130) from the prompt; No (the default): refused, exit 3.
      if (!(await confirmRollback(plan, meta.createdAt))) {
        throw new RefusedError(`rollback to ${name} not confirmed; nothing was changed`, { hint: 'Answer yes, or run it with --yes.' });
      }
    }
    for (const w of warnings) ctx.log.warn(`--force: ${w}`);
    const r = await rollbackWithHooks(crypt, ctx, plan);
    const db = r.databaseRestarted
      ? `; PostgreSQL is running again (start + recovery took ${r.recoveryMs} ms)`
      : crypt.config.postgres
        ? '; PostgreSQL was not running and stays stopped'
        : '';
    const human = [
      `rolled back ${crypt.shown} to ${r.target}${db}`,
      `the replaced state is snapshot ${r.preRollback}; undo with: lychd-crypt rollback ${r.preRollback}`,
    ].join('\n');
    return { json: { ok: true, ...r, undo: `lychd-crypt rollback ${r.preRollback}` }, human };
  });
}
