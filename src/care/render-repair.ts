// repair's output: the plan (for --dry-run and before applying), and the report after.
import { doctorJson } from './render-doctor.js';
import type { Check } from './findings.js';
import type { RepairStepResult } from './repair-steps.js';
import type { RepairPlan } from './plan.js';
import type { RepairStep } from '../model/steps.js';
import { isDestructive, needsConsent } from './plan.js';

/** A step in words (the title its module gives it: care/steps/index.ts describeRepairStep). */
export type Title = (s: RepairStep) => string;

export function planJson(plan: RepairPlan, describeStep: Title): object {
  return {
    version: plan.version,
    destructive: plan.destructive,
    steps: plan.steps.map((s) => ({ ...s, title: describeStep(s), destructive: isDestructive(s), needsConsent: needsConsent(s) })),
    manual: plan.manual,
  };
}

export function planHuman(plan: RepairPlan, describeStep: Title): string[] {
  const lines: string[] = [];
  if (!plan.steps.length) lines.push('nothing for repair to do');
  else {
    lines.push(`repair plan (${plan.steps.length} step(s)${plan.destructive ? ', some destructive' : ''}):`);
    plan.steps.forEach((s, i) => lines.push(`  ${i + 1}. ${describeStep(s)}${isDestructive(s) ? '  [destructive: asks first]' : needsConsent(s) ? '  [asks first]' : ''}`));
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
  /** Steps left out for want of consent (--yes or a confirmation), and why. */
  withheld?: { steps: RepairStep[]; why: string } | null;
  /** The hint that repeats this command with --yes, pasteable (src/base/output/hint.ts). */
  yesHint?: string;
  /** A step in words. */
  describeStep: Title;
}

export function reportJson(r: RepairReport): object {
  const after = doctorJson(r.crypt, r.checks) as { healthy: boolean };
  const withheld = r.withheld?.steps.map((s) => ({ ...s, title: r.describeStep(s), destructive: isDestructive(s) })) ?? [];
  return { version: 1, crypt: r.crypt, dryRun: r.dryRun, plan: planJson(r.plan, r.describeStep), notes: r.notes, done: r.done, withheld, healthy: after.healthy, doctor: after };
}

/**
 * After a real run. Each step was shown once already, as it ran (on stderr); this says what it added up
 * to: how many steps were done, what was left out for want of consent, what needs a person, what remains.
 */
export function reportHuman(r: RepairReport): string {
  if (r.dryRun) {
    const lines = planHuman(r.plan, r.describeStep);
    for (const n of r.notes) lines.push(`note: ${n}`);
    lines.push('(dry run: nothing was changed)');
    return lines.join('\n');
  }
  const lines: string[] = [];
  const withheld = r.withheld?.steps ?? [];
  if (r.done.length) lines.push(`repair did ${r.done.length} step(s)`);
  else if (!withheld.length) lines.push('nothing for repair to do');
  if (withheld.length) {
    lines.push(`not done (${r.withheld!.why}; ${withheld.length === 1 ? 'this step needs' : 'these steps need'} --yes or a yes at a terminal):`);
    lines.push(...withheld.map((s) => `  - ${r.describeStep(s)}`));
    if (r.yesHint) lines.push(`  to do ${withheld.length === 1 ? 'it' : 'them'}: ${r.yesHint}`);
  }
  if (r.plan.manual.length) {
    lines.push('needs a person (repair does not do these):');
    for (const m of r.plan.manual) lines.push(`  - ${m.finding} (${m.id})`, `    ${m.fix}`);
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  const left = r.checks.filter((c) => c.status === 'problem');
  const unknown = r.checks.filter((c) => c.status === 'cannot-check');
  if (left.length) lines.push(`${left.length} problem(s) remain (see lychd-crypt doctor): ${left.map((c) => c.id).join(', ')}`);
  if (unknown.length) lines.push(`${unknown.length} check(s) could not run (see lychd-crypt doctor): ${unknown.map((c) => c.id).join(', ')}`);
  if (!left.length && !unknown.length) lines.push('the crypt is healthy');
  return lines.join('\n');
}
