// `lychd-crypt init`: unattended from an answers file, or interactive in a terminal (questions from src/cli/ui/).
import { loadAnswersFile } from '../../install/answers/load.js';
import { UsageError } from '../../base/errors.js';
import { answersFromConfig, applyPlan, check, defaultAnswers, describeDryRun, lineReporter, planToJson, probePlan, requireRoot, writeAnswersFile, type Checked, type DetectContext } from '../../install/init.js';
import { answersSchema } from '../../install/answers/schema.js';
import { withLock } from '../../base/crypt/lock.js';
import { cryptPaths, stateDirFor } from '../../base/crypt/paths.js';
import { closeDir } from '../../base/sys/fd.js';
import { openTrustedDir } from '../../base/sys/trusted-path.js';
import type { CommandContext, CommandOutput } from '../frame/context.js';
import type { Config } from '../../model/config.js';
import { hint, learnCrypt, type HintFacts } from '../../base/output/hint.js';
import { registryOption } from '../../install/plan/schedule.js';
import path from 'node:path';

export interface InitOptions {
  answers?: string;
  yes?: boolean;
  dryRun?: boolean;
  writeAnswers?: string;
  /** Interactive only: pre-fill the questions from this (partial) answers file. */
  defaults?: string;
}

/**
 * init without an answers file and without questions (`--yes`, `--dry-run`): every default — but a
 * registered crypt keeps what is registered (its entry stands in for the answers), as the wizard does.
 */
async function checkFromRegistry(detect: DetectContext): Promise<Checked> {
  const first = await check(defaultAnswers(), detect);
  const registered = first.facts.existingConfig;
  if (!registered) return first;
  const answers = answersFromConfig(registered);
  return check(answersSchema.parse({ ...answers, crypt: { ...answers.crypt, path: first.facts.cryptPath } }), detect, { reuse: first });
}

/** What a printed follow-up needs of this crypt: its name, registry (when not the default) and installed command. */
function followUpFacts(config: Config, ctx: CommandContext): HintFacts {
  const installed = path.join(config.install.binDir, 'lychd-crypt');
  const registry = registryOption(config);
  learnCrypt({ cryptName: config.crypt.name, installed, registry });
  return { crypt: config.crypt.name, installed, registry, pathEnv: ctx.env.PATH };
}

export async function runInit(_args: string[], opts: InitOptions & Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  // Interactive (a terminal and no --yes): src/cli/ui/ asks what --answers would say and confirms the plan.
  const ui = ctx.interactive && !opts.yes ? await import('../ui/index.js') : undefined;
  if (opts.defaults && (!ui || opts.answers)) {
    throw new UsageError('--defaults pre-fills the interactive questions; it needs a terminal and no --answers or --yes', {
      hint: 'Without a terminal, pass the answers file itself: --answers FILE --yes.',
    });
  }
  if (!ui && !opts.answers && !opts.yes && !opts.dryRun) {
    throw new UsageError('no answers file and no terminal to ask the questions', {
      hint: 'Run init in a terminal, or pass --answers FILE --yes (or --yes to accept every default).',
    });
  }
  const detect: DetectContext = { runner: ctx.runner, env: ctx.env, userFlag: ctx.globals.user, cryptFlag: ctx.globals.crypt, registryFlag: ctx.globals.registry };
  // Validation of a file happens here, before detection or any side effect. The interactive questions end
  // with the answers checked (detected, resolved, planned): that plan is the one applied.
  const first = opts.answers
    ? await check(await loadAnswersFile(opts.answers), detect)
    : ui
      ? await ui.askAnswers(opts.defaults ? await loadAnswersFile(opts.defaults) : defaultAnswers(), {
          detect,
          cryptGiven: ctx.globals.crypt !== undefined,
          dryRun: Boolean(opts.dryRun),
        })
      : await checkFromRegistry(detect);
  let { plan, facts } = first;
  // A deinit of this crypt was interrupted: it is finished first (as it was consented to), then init sets
  // the crypt up again from these answers (with its kept data, adopted from the released record).
  const removing = facts.registry.entries.find((e) => e.deinit && e.config.crypt.path === facts.cryptPath);
  if (removing && opts.dryRun) plan.notes.push(`a deinit of this crypt was interrupted: a real run finishes it first (\`lychd-crypt deinit --crypt ${removing.name} --dry-run\` shows what is left), then sets the crypt up again from these answers`);
  else if (removing) {
    requireRoot(facts);
    const { finishPendingDeinit } = await import('../frame/deinit.js');
    ctx.log.info(await finishPendingDeinit(ctx, removing));
    ({ plan, facts } = await check(first.answers, detect));
  }

  // The equivalent answers, for an unattended replay: after a dry run (nothing of the host changes), else
  // only once the plan has consent, so a refused or cancelled run leaves nothing behind.
  if (opts.dryRun) {
    if (opts.writeAnswers) await writeAnswersFile(opts.writeAnswers, plan.config);
    // Each step's own check, made without acting: a dry run on an existing crypt says what is already so.
    const probes = await probePlan(plan, { runner: ctx.runner });
    const json = planToJson(plan);
    const steps = json.steps.map((s, i) => ({ ...s, probe: probes[i] }));
    const wouldChange = probes.filter((p) => p.status === 'would-change').length;
    return { json: { ok: true, dryRun: true, wouldChange, plan: { ...json, steps } }, human: `${describeDryRun(plan, probes)}\n(dry run: nothing was changed)` };
  }
  requireRoot(facts);
  // A rootless crypt's state directory is in its owner's home: a link they made on the way there is refused
  // now, before anything changes (the steps and the lock refuse it too, whenever it appears).
  const stateDir = await openTrustedDir(stateDirFor(plan.config));
  const hasState = stateDir !== null;
  await closeDir(stateDir);
  if (!opts.yes) {
    // The preview leaves out what is already so (a live PGDATA is not "created"), as the dry run does.
    if (ui) await ui.confirmPlan(plan, facts, {}, await probePlan(plan, { runner: ctx.runner }));
    else throw new UsageError('init needs consent to apply the plan', { hint: 'Review it with --dry-run, then pass --yes.' });
  }
  if (opts.writeAnswers) await writeAnswersFile(opts.writeAnswers, plan.config);
  const reporter = ui ? ui.spinnerReporter() : lineReporter((l) => ctx.log.info(l));
  const apply = () => applyPlan(plan, { runner: ctx.runner }, reporter);
  // On an existing crypt, converge under its lock so no snapshot or rollback runs meanwhile.
  // The lock is in the state directory (a crypt made before the registry has none yet: nothing can hold it).
  const lock = cryptPaths(plan.config.crypt.path, stateDirFor(plan.config)).lock;
  const result = facts.existingConfig && hasState ? await withLock(lock, { waitSeconds: ctx.globals.wait, operation: 'init', activity: ctx.activity }, apply) : await apply();
  const root = plan.config.crypt.path;
  const head =
    result.changed === 0
      ? `nothing to do: the crypt at ${root} is already set up as asked`
      : facts.existingConfig
        ? // A converging run (answers changed, or something was edited by hand): say what it changed.
          `crypt at ${root} brought back in line: changed ${result.changed} of ${result.steps.length} steps: ${result.steps
            .filter((s) => s.status === 'done')
            .map((s) => s.title)
            .join('; ')}`
        : `crypt ready at ${root} (${result.changed} of ${result.steps.length} steps changed something)`;
  // The follow-up commands, built by the one builder: the registry and the installed command of this plan
  // (which may come from the answers, not the command line), the crypt by name.
  const facts2 = followUpFacts(plan.config, ctx);
  const next = result.changed === 0 ? [] : [`next: ${hint(facts2, 'doctor')}`];
  if (ui) {
    const steps: [string, string][] = [
      ['check it', hint(facts2, 'doctor')],
      ['first snapshot', hint(facts2, 'snapshot', '--label', 'first')],
    ];
    if (opts.writeAnswers) steps.push(['replay unattended', hint(facts2, 'init', '--answers', path.resolve(opts.writeAnswers), '--yes')]);
    ui.showSummary(head, plan.notes, steps.map(([what, cmd]) => `${`${what}:`.padEnd(20)}${cmd}`));
  }
  return {
    json: { ok: true, dryRun: false, crypt: root, changed: result.changed, steps: result.steps, notes: plan.notes, config: plan.config },
    human: ui ? '' : [head, ...plan.notes.map((n) => `note: ${n}`), ...next].join('\n'),
  };
}
