// `lychd-crypt repair [--dry-run] [--yes]`: doctor's findings → a plan → the fixes, under the crypt lock.
// An unmounted crypt is mounted first from its mount record: its configuration and lock live on it.
import { CryptError } from '../core/errors.js';
import { exists } from '../core/fs.js';
import { mutateCrypt } from '../crypt/mutate.js';
import { resolveCryptPath } from '../crypt/open.js';
import { loadDoctorEnv } from '../doctor/load.js';
import { runChecks } from '../doctor/run.js';
import { applyRepair, type RepairStepResult } from '../repair/apply.js';
import { ensureConsent } from '../repair/consent.js';
import { planRepair, type RepairPlan } from '../repair/plan.js';
import type { RepairStep } from '../repair/steps.js';
import { reportHuman, reportJson, type RepairReport } from '../repair/render.js';
import type { CommandContext, CommandOutput } from './context.js';

export interface RepairOptions {
  dryRun?: boolean;
  yes?: boolean;
}

function output(r: RepairReport): CommandOutput {
  const healthy = !r.checks.some((c) => c.status === 'problem');
  return { json: reportJson(r), human: reportHuman(r), exitCode: r.dryRun || healthy ? 0 : 1 };
}

export async function runRepair(_args: string[], opts: RepairOptions & Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const root = await resolveCryptPath(ctx);
  const dryRun = !!opts.dryRun;
  const log = (line: string) => ctx.log.info(line);
  const systemd = await exists('/run/systemd/system');
  let env = await loadDoctorEnv(ctx.runner, root);
  const notes: string[] = [];
  const done: RepairStepResult[] = [];
  let preSteps: RepairStep[] = [];
  const withPre = (plan: RepairPlan): RepairPlan => ({ ...plan, steps: [...preSteps, ...plan.steps] });

  if (!env.config && env.view && !env.mounted) {
    // Not mounted: only the mount record is readable. Mount first (no lock: the lock file is on the crypt).
    const checks = await runChecks(env);
    const plan = planRepair(checks);
    const mountSteps = plan.steps.filter((s) => s.kind === 'mount');
    if (dryRun || !mountSteps.length) {
      if (mountSteps.length) notes.push('the rest of the crypt is checked once it is mounted: run `lychd-crypt repair --dry-run` again after mounting for the full plan');
      return output({ crypt: root, dryRun, plan, notes, done, checks });
    }
    done.push(...(await applyRepair(mountSteps, { ctx, crypt: null, systemd }, log)));
    preSteps = mountSteps;
    env = await loadDoctorEnv(ctx.runner, root);
    if (!env.config) throw new CryptError(`the crypt at ${root} was mounted but holds no configuration`, { hint: 'Run `lychd-crypt doctor` to see what is there.' });
  }

  if (!env.config || dryRun) {
    // No crypt to lock (only manual advice), or a dry run (reads only, so no lock either).
    const checks = await runChecks(env);
    return output({ crypt: root, dryRun, plan: withPre(planRepair(checks)), notes, done, checks });
  }

  return mutateCrypt(ctx, async (crypt) => {
    // mutateCrypt has already finished or undone an interrupted operation: plan from the state after it.
    const before = await runChecks(await loadDoctorEnv(ctx.runner, root));
    const plan = planRepair(before);
    await ensureConsent(plan, !!opts.yes, ctx);
    done.push(...(await applyRepair(plan.steps, { ctx, crypt, systemd }, log)));
    const after = await runChecks(await loadDoctorEnv(ctx.runner, root));
    return output({ crypt: root, dryRun, plan: withPre(plan), notes, done, checks: after });
  });
}
