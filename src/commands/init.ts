// `lychd-crypt init`: unattended from an answers file (the interactive installer hooks in below).
import { loadAnswersFile } from '../config/load-answers.js';
import { UsageError } from '../core/errors.js';
import { applyPlan, defaultAnswers, describePlan, lineReporter, planToJson, prepareInit, requireRoot, writeAnswersFile } from '../init/index.js';
import { withLock } from '../crypt/lock.js';
import { cryptPaths } from '../crypt/paths.js';
import type { CommandContext, CommandOutput } from './context.js';

export interface InitOptions {
  answers?: string;
  yes?: boolean;
  dryRun?: boolean;
  writeAnswers?: string;
}

export async function runInit(_args: string[], opts: InitOptions & Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  if (ctx.interactive && !opts.answers) {
    // TODO(ui): the interactive installer (src/ui/) takes over here: it detects, asks, previews the plan,
    // confirms, applies with a progress reporter and honours --write-answers and --dry-run.
    throw new UsageError('interactive init is not available yet', { hint: 'Pass --answers FILE --yes (see docs/init.md).' });
  }
  if (!opts.answers && !opts.yes && !opts.dryRun) {
    throw new UsageError('no answers file and no terminal to ask the questions', {
      hint: 'Run init in a terminal, or pass --answers FILE --yes (or --yes to accept every default).',
    });
  }
  // Validation happens here, before detection or any side effect.
  const answers = opts.answers ? await loadAnswersFile(opts.answers) : defaultAnswers();
  const { plan, facts } = await prepareInit(answers, {
    runner: ctx.runner,
    env: ctx.env,
    userFlag: ctx.globals.user,
    cryptFlag: ctx.globals.crypt,
  });

  // The equivalent answers, for an unattended replay (also after a dry run: nothing of the host changes).
  if (opts.writeAnswers) await writeAnswersFile(opts.writeAnswers, plan.config);
  if (opts.dryRun) {
    return { json: { ok: true, dryRun: true, plan: planToJson(plan) }, human: `${describePlan(plan)}\n(dry run: nothing was changed)` };
  }
  requireRoot(facts);
  if (!opts.yes) {
    // TODO(ui): in a terminal, preview the plan (describePlan) and ask for confirmation here instead.
    throw new UsageError('init needs consent to apply the plan', { hint: 'Review it with --dry-run, then pass --yes.' });
  }
  const apply = () => applyPlan(plan, { runner: ctx.runner }, lineReporter((l) => ctx.log.info(l)));
  // On an existing crypt, converge under its lock so no snapshot or rollback runs meanwhile.
  const result = facts.existingConfig ? await withLock(cryptPaths(plan.config.crypt.path).lock, { waitSeconds: ctx.globals.wait }, apply) : await apply();
  const root = plan.config.crypt.path;
  const head =
    result.changed === 0
      ? `nothing to do: the crypt at ${root} is already set up as asked`
      : `crypt ready at ${root} (${result.changed} of ${result.steps.length} steps changed something)`;
  const next = result.changed === 0 ? [] : [`next: lychd-crypt doctor --crypt ${root}`];
  return {
    json: { ok: true, dryRun: false, crypt: root, changed: result.changed, steps: result.steps, notes: plan.notes, config: plan.config },
    human: [head, ...plan.notes.map((n) => `note: ${n}`), ...next].join('\n'),
  };
}
