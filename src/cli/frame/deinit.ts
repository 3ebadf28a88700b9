// deinit through the step engine: the plan (care/deinit.ts) with deinit's table (care/steps/index.ts),
// marked in the registry entry before the first step so that a crash at any step leaves a mark the next
// command finishes: every mutating command, repair and init do (finishPendingDeinit), deinit itself too.
import { randomUuid } from '../../base/ids.js';
import { CryptError, RefusedError } from '../../base/errors.js';
import { writeEntry, type RegistryEntry } from '../../base/registry/store.js';
import { noActivity, type Activity } from '../../base/context.js';
import { runSteps, type ApplyResult } from '../../install/steps/engine.js';
import { DEINIT_STEPS } from '../../care/steps/index.js';
import { deinitMark, detectDeinit, keptData, planDeinit } from '../../care/deinit.js';
import type { DeinitStep } from '../../model/steps.js';
import type { CommandContext } from './context.js';

export interface DeinitRun {
  entry: RegistryEntry;
  steps: DeinitStep[];
  result: ApplyResult;
  kept: string | null;
}

/** Plans and applies a deinit of `entry` (consent already given), marking it first. */
export async function applyDeinit(ctx: CommandContext, entry: RegistryEntry, consent: { deleteData: boolean; stopDatabase: boolean }, steps?: DeinitStep[]): Promise<DeinitRun> {
  const mark = entry.deinit ?? deinitMark(randomUuid(), { deleteData: consent.deleteData }, consent.stopDatabase);
  const deleteData = mark.deleteData || consent.deleteData;
  const plan = steps ?? planDeinit(entry, await detectDeinit(ctx.runner, entry), { deleteData });
  if (plan.some((s) => s.kind === 'stop-database') && !(mark.stopDatabase || consent.stopDatabase)) {
    throw new RefusedError(`PostgreSQL runs from the crypt "${entry.name}", and stopping it was not consented to; nothing more was changed`, {
      hint: `Stop it yourself (\`lychd-crypt db stop\`), or give consent: \`lychd-crypt deinit --crypt ${entry.name} --yes\`.`,
    });
  }
  // The mark goes in before anything changes: from here on the crypt is "being removed" for every command.
  if (!entry.deinit || mark.deleteData !== deleteData || (consent.stopDatabase && !mark.stopDatabase)) {
    entry.deinit = { ...mark, deleteData, stopDatabase: mark.stopDatabase || consent.stopDatabase };
    await writeEntry(entry.config.registry.dir, entry);
  }
  let shown: Activity | undefined;
  const result = await runSteps(plan, DEINIT_STEPS, { runner: ctx.runner }, {
    fault: 'deinit',
    reporter: {
      onStep(e) {
        if (e.status === 'start') shown = (ctx.activity ?? noActivity)(`[${e.index + 1}/${e.total}] ${e.title}`, { line: 'end' });
        else if (e.status === 'fail') shown?.fail(e.error instanceof Error ? e.error.message.split('\n')[0] : String(e.error));
        else shown?.done(e.status === 'done' ? (e.detail ?? 'done') : `already so${e.detail ? ` (${e.detail})` : ''}`);
      },
    },
    afterFailure: (done) =>
      `${done.length} earlier step(s) are done; the crypt stays marked as being removed, so nothing uses it half-removed. Fix the cause and run \`lychd-crypt deinit --crypt ${entry.name} --yes\` again: it goes on where it stopped.`,
  });
  return { entry, steps: plan, result, kept: keptData(entry.config, deleteData) };
}

/**
 * An interrupted deinit (the mark in the entry) is finished as it was consented to. Root only; for anyone
 * else the refusal stands (it names root's command).
 */
export async function finishPendingDeinit(ctx: CommandContext, entry: RegistryEntry): Promise<string> {
  if (!entry.deinit || process.getuid?.() !== 0) throw new CryptError(`the crypt "${entry.name}" is not being removed`);
  const run = await applyDeinit(ctx, entry, { deleteData: entry.deinit.deleteData, stopDatabase: entry.deinit.stopDatabase });
  return `finished the interrupted deinit of the crypt "${entry.name}" at ${entry.config.crypt.path} (${run.result.changed} of ${run.steps.length} steps were left): it is no longer registered${run.kept ? `; ${run.kept}` : ''}`;
}
