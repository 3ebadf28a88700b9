// The plan for people (describePlan) and for machines (planToJson): every step with its exact commands
// and the full content of every file it writes.
import { formatSize } from '../config/size.js';
import { stepActions, type StepActions } from './actions.js';
import type { Plan, Step } from './steps.js';

/** Quotes an argv word for display only (commands never run through a shell). */
export function quoteArg(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function formatArgv(argv: readonly string[]): string {
  return argv.map(quoteArg).join(' ');
}

export function describeStep(step: Step, index: number): string {
  const a = stepActions(step);
  const lines = [`${index + 1}. ${a.title}`];
  for (const act of a.sequence) {
    if ('op' in act) lines.push(`     - ${act.op}`);
    else if ('run' in act) lines.push(`     $ ${formatArgv(act.run)}`);
    else {
      lines.push(`     file ${act.write.path} (mode 0${act.write.mode.toString(8)}):`);
      for (const l of act.write.content.replace(/\n$/, '').split('\n')) lines.push(`       | ${l}`);
    }
  }
  return lines.join('\n');
}

export function describePlan(plan: Plan): string {
  const c = plan.config;
  const where =
    c.method === 'loopback'
      ? `on the image ${c.loopback!.image} (${formatSize(c.loopback!.sizeBytes)})`
      : c.method === 'partition'
        ? `on the device ${c.partition!.device}`
        : 'in place on the Btrfs host';
  const head = `Plan: crypt at ${c.crypt.path} for ${c.crypt.user}, method ${c.method} ${where}, persisted via ${c.persist.via}`;
  const body = plan.steps.map(describeStep).join('\n');
  const notes = plan.notes.map((n) => `note: ${n}`).join('\n');
  return [head, body, notes].filter(Boolean).join('\n');
}

export type StepJson = Step & { actions: StepActions };

export function planToJson(plan: Plan): { version: 1; config: Plan['config']; steps: StepJson[]; notes: string[] } {
  return { version: 1, config: plan.config, steps: plan.steps.map((s) => ({ ...s, actions: stepActions(s) })), notes: plan.notes };
}
