// repair's output: the plan (for --dry-run and before applying), and the report after.
import { doctorJson } from '../doctor/render.js';
import type { Check } from '../doctor/types.js';
import type { RepairStepResult } from './apply.js';
import type { RepairPlan } from './plan.js';
import { describeStep, isDestructive } from './steps.js';

export function planJson(plan: RepairPlan): object {
  return {
    version: plan.version,
    destructive: plan.destructive,
    steps: plan.steps.map((s) => ({ ...s, title: describeStep(s), destructive: isDestructive(s) })),
    manual: plan.manual,
  };
}

export function planHuman(plan: RepairPlan): string[] {
  const lines: string[] = [];
  if (!plan.steps.length) lines.push('nothing for repair to do');
  else {
    lines.push(`repair plan (${plan.steps.length} step(s)${plan.destructive ? ', some destructive' : ''}):`);
    plan.steps.forEach((s, i) => lines.push(`  ${i + 1}. ${describeStep(s)}${isDestructive(s) ? '  [destructive]' : ''}`));
  }
  if (plan.manual.length) {
    lines.push('needs a person (repair does not do these):');
    for (const m of plan.manual) lines.push(`  - ${m.finding} (${m.id})`, `    ${m.fix}`);
  }
  return lines;
}

export interface RepairReport {
  crypt: string;
  dryRun: boolean;
  plan: RepairPlan;
  notes: string[];
  done: RepairStepResult[];
  /** Doctor's checks after the repair (or, for a dry run, before). */
  checks: Check[];
}

export function reportJson(r: RepairReport): object {
  const after = doctorJson(r.crypt, r.checks) as { healthy: boolean };
  return { version: 1, crypt: r.crypt, dryRun: r.dryRun, plan: planJson(r.plan), notes: r.notes, done: r.done, healthy: after.healthy, doctor: after };
}

export function reportHuman(r: RepairReport): string {
  const lines = planHuman(r.plan).filter((l) => r.dryRun || !r.done.length || l !== 'nothing for repair to do');
  for (const n of r.notes) lines.push(`note: ${n}`);
  if (r.dryRun) {
    lines.push('(dry run: nothing was changed)');
    return lines.join('\n');
  }
  if (r.done.length) lines.push('done:', ...r.done.map((d) => `  ${d.title}: ${d.result}`));
  const left = r.checks.filter((c) => c.status === 'problem');
  const unknown = r.checks.filter((c) => c.status === 'cannot-check');
  if (left.length) lines.push(`${left.length} problem(s) remain (see lychd-crypt doctor): ${left.map((c) => c.id).join(', ')}`);
  if (unknown.length) lines.push(`${unknown.length} check(s) could not run (see lychd-crypt doctor): ${unknown.map((c) => c.id).join(', ')}`);
  if (!left.length && !unknown.length) lines.push('the crypt is healthy');
  return lines.join('\n');
}
