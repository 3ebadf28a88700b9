// `lychd-crypt repair [--dry-run] [--yes]`: doctor's findings → a plan → the fixes, under the crypt lock.
// Mounting (and unstacking a doubled mount) comes first, without the lock: the configuration and the lock
// file live on the crypt, so an unmounted crypt is mounted from its mount record.
import { CryptError } from '../../base/errors.js';
import { finishCapacity, mutateCrypt } from '../frame/mutate.js';
import { withLock } from '../../base/crypt/lock.js';
import { capacityLockPath } from '../../runtime/capacity/journal.js';
import { recoverInterrupted } from '../frame/recover.js';
import { DeinitPendingError, withCrypt, type OpenCrypt } from '../../base/crypt/open.js';
import { RunAsOwner } from '../../base/crypt/access.js';
import { repairRootPart } from '../../care/root-part.js';
import { loadDoctorEnv } from '../../care/load-env.js';
import { runChecks, summarize } from '../../care/doctor.js';
import { applyRepairSteps, type ApplyRepair, type RepairStepResult } from '../../care/repair-steps.js';
import { describeRepairStep, REPAIR_STEPS } from '../../care/steps/index.js';
import { askConsent } from '../../care/consent.js';
import { askConfirm } from '../ui/prompts.js';
import { BEFORE_LOCK, planRepair, type RepairPlan } from '../../care/plan.js';
import { reportHuman, reportJson, type RepairReport } from '../../care/render-repair.js';
import type { RepairStep } from '../../model/steps.js';
import { ExitCode } from '../../base/errors.js';
import { noActivity } from '../../base/context.js';
import { cryptRequest, type CommandContext, type CommandOutput } from '../frame/context.js';

export interface RepairOptions {
  dryRun?: boolean;
  yes?: boolean;
}

function output(r: RepairReport): CommandOutput {
  const healthy = summarize(r.checks).healthy;
  // Steps left out for want of consent: refused (exit 3), as a refusal is everywhere, though the rest was done.
  const exitCode = r.dryRun ? 0 : r.withheld?.steps.length ? ExitCode.refused : healthy ? 0 : 1;
  return { json: reportJson(r), human: reportHuman({ ...r, yesHint: '`lychd-crypt repair --yes`' }), exitCode };
}

export async function runRepair(args: string[], opts: RepairOptions & Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  try {
    return await repair(args, opts, ctx);
  } catch (e) {
    // A crypt half removed by an interrupted deinit: repair (as root) finishes the removal as consented.
    if (!(e instanceof DeinitPendingError) || process.getuid?.() !== 0) throw e;
    if (opts.dryRun) {
      const line = `would finish the interrupted deinit of the crypt "${e.entry.name}" (started ${e.entry.deinit!.startedAt}): \`lychd-crypt deinit --crypt ${e.entry.name} --dry-run\` shows its steps`;
      return { json: { ok: true, dryRun: true, deinit: 'pending', crypt: e.entry.config.crypt.path }, human: `${line}\n(dry run: nothing was changed)` };
    }
    const { finishPendingDeinit } = await import('../frame/deinit.js');
    const line = await finishPendingDeinit(ctx, e.entry);
    return { json: { ok: true, dryRun: false, deinit: 'finished', crypt: e.entry.config.crypt.path }, human: line };
  }
}

async function repair(_args: string[], opts: RepairOptions & Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const dryRun = !!opts.dryRun;
  // Each step is shown once, as it runs: a spinner replaced by its outcome on a terminal, one line otherwise.
  const progress = (ctx.activity ?? noActivity);
  const onStep = (i: number, n: number, title: string) => progress(`[${i + 1}/${n}] ${title}`, { line: 'end' });
  // The one place that hands repair's table to the step engine (care's own files never import it).
  const apply: ApplyRepair = (steps, sctx) => applyRepairSteps(steps, REPAIR_STEPS, sctx, onStep);
  const describeStep = describeRepairStep;
  const notes: string[] = [];
  const done: RepairStepResult[] = [];
  const look = () => withCrypt(ctx, cryptRequest(ctx), async (crypt) => ({ root: crypt.shown, mounted: crypt.mounted, checks: await runChecks(await loadDoctorEnv(ctx.runner, crypt)) }), { allowUnmounted: true });

  let { root, mounted, checks } = await look().catch(async (e: unknown) => {
    // Root on a rootless crypt: root takes the steps only root can (the mount first), then the repair goes
    // on as the owner (the RunAsOwner re-runs it so); a dry run only looks, as the owner.
    if (e instanceof RunAsOwner && !dryRun) {
      await repairRootPart(ctx, cryptRequest(ctx), apply);
      // Root's own half of a rootless crypt also holds an interrupted resize (the image and the loop device).
      const finished = await withCrypt(ctx, cryptRequest(ctx), (crypt) => withLock(capacityLockPath(crypt.config, crypt.paths.lock), { waitSeconds: ctx.globals.wait, operation: ctx.command }, () => finishCapacity(crypt, ctx)), { asRoot: true });
      for (const line of finished) ctx.log.info(`recovered: ${line}`);
    }
    throw e;
  });
  const first = planRepair(checks);
  if (dryRun) {
    if (!mounted) notes.push('the crypt is not mounted: the rest of it is checked once it is; run `lychd-crypt repair --dry-run` again after mounting for the full plan');
    if (first.steps.some((s) => s.kind === 'recover-interrupted')) {
      notes.push('leftovers and PGDATA are checked again after the interrupted operation is finished or undone: repair may then plan more steps');
    }
    return output({ crypt: root, dryRun, plan: first, notes, done, checks, describeStep });
  }

  // Mounting (and unstacking a doubled mount) comes first, without the lock: the lock and the rest of
  // the checks need the crypt's filesystem.
  const early: RepairStep[] = first.steps.filter((s) => BEFORE_LOCK.includes(s.kind));
  if (early.length) {
    done.push(...(await apply(early, { runner: ctx.runner, crypt: null })));
    ({ root, mounted, checks } = await look());
  }
  const withEarly = (plan: RepairPlan): RepairPlan => ({ ...plan, steps: [...early, ...plan.steps] });
  if (!mounted) {
    if (early.length) throw new CryptError(`the crypt at ${root} could not be mounted`, { hint: 'Run `lychd-crypt doctor` to see why.' });
    return output({ crypt: root, dryRun, plan: planRepair(checks), notes, done, checks, describeStep }); // only manual advice
  }

  // The recovery table, handed to the recover-interrupted step (care knows no operation above it).
  const heal = async (crypt: OpenCrypt) => (await recoverInterrupted(crypt, ctx)).actions;
  return mutateCrypt(ctx, async (crypt, healed) => {
    // mutateCrypt has already finished or undone an interrupted operation (and logged it as `recovered: …`):
    // the report lists it too, and the plan is made from the state after it.
    done.push(...healed.map((r) => ({ kind: 'recover-interrupted' as const, title: 'finish or undo the interrupted operation', result: r })));
    const plan = planRepair(await runChecks(await loadDoctorEnv(ctx.runner, crypt)));
    const steps = plan.steps.filter((s) => !BEFORE_LOCK.includes(s.kind));
    // Safe steps are applied in any case; only those that need consent wait for --yes or a yes.
    const consent = await askConsent(steps, !!opts.yes, ctx.interactive ? askConfirm : null, describeStep);
    done.push(...(await apply(consent.apply, { runner: ctx.runner, crypt, heal })));
    const after = await runChecks(await loadDoctorEnv(ctx.runner, crypt));
    const withheld = consent.withheld.length ? { steps: consent.withheld, why: consent.why ?? '' } : null;
    return output({ crypt: root, dryRun, plan: withEarly({ ...plan, steps }), notes, done, checks: after, withheld, describeStep });
  }, { leaveUnusable: true }); // an unusable journal is one of the findings, set aside with consent
}
