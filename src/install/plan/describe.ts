// The plan for people (describePlan) and for machines (planToJson): every step with its exact commands
// and the full content of every file it writes.
import { formatSize } from '../../model/units.js';
import { shellLine } from '../../base/output/text.js';
import { stepActions, type Probe, type StepActions } from '../steps/index.js';
import type { InitStep, Plan } from '../../model/steps.js';
import { configChanges, type ConfigChange } from './config-diff.js';
import { describeConnection, describeProfile, registryLines } from './summary.js';

export function describeStep(step: InitStep, index: number): string {
  const a = stepActions(step);
  const lines = [`${index + 1}. ${a.title}`];
  for (const act of a.sequence) {
    if ('op' in act) lines.push(`     - ${act.op}`);
    else if ('run' in act) lines.push(`     $ ${shellLine(act.run)}`);
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
  return [head, ...whoAndRegistry(plan), body, notes].filter(Boolean).join('\n');
}

/** The profile, the connection and — for a registered crypt — its registry changes or "nothing to change". */
function whoAndRegistry(plan: Plan): string[] {
  const reg = registryLines(plan);
  return [
    `${describeProfile(plan.config)}; ${describeConnection(plan.config)}`,
    ...(plan.released || (reg.length === 1 && reg[0] === 'nothing to change')
      ? [`registry entry "${plan.config.crypt.name}": ${reg[0]}`, ...reg.slice(1).map((l) => `  ${l}`)]
      : reg.length
        ? [`registry entry "${plan.config.crypt.name}" changes:`, ...reg.map((l) => `  ${l}`)]
        : []),
  ];
}

export type StepJson = InitStep & { actions: StepActions };

export function planToJson(plan: Plan): { version: 1; config: Plan['config']; registryChanges: ConfigChange[] | null; steps: StepJson[]; notes: string[] } {
  return {
    version: 1,
    config: plan.config,
    // null: a new crypt; []: a registered one whose definition stays as it is.
    registryChanges: plan.registered ? configChanges(plan.registered, plan.config) : null,
    steps: plan.steps.map((s) => ({ ...s, actions: stepActions(s) })),
    notes: plan.notes,
  };
}

/** What --dry-run learned of one step on this host (its module's probe, install/steps/). */
export type StepProbe = Probe;

/**
 * The dry run on a real host: every step marked "already satisfied" or "would change"; a step that would
 * change shows its commands, and a diff instead of the whole content for a file it rewrites.
 */
export function describeDryRun(plan: Plan, probes: StepProbe[]): string {
  const head = describePlan({ ...plan, steps: [], notes: [] });
  const body = plan.steps.map((step, i) => {
    const p = probes[i];
    if (!p) return describeStep(step, i);
    const a = stepActions(step);
    if (p.status === 'satisfied') return `${i + 1}. ${a.title}: already satisfied${p.detail ? ` (${p.detail})` : ''}`;
    const lines = [`${i + 1}. ${a.title}: would change${p.detail ? ` (${p.detail})` : ''}`];
    for (const act of a.sequence) {
      if ('op' in act) lines.push(`     - ${act.op}`);
      else if ('run' in act) lines.push(`     $ ${shellLine(act.run)}`);
      else if (!p.diff) {
        lines.push(`     file ${act.write.path} (mode 0${act.write.mode.toString(8)}):`);
        for (const l of act.write.content.replace(/\n$/, '').split('\n')) lines.push(`       | ${l}`);
      }
    }
    if (p.diff) for (const l of p.diff.split('\n')) lines.push(`       ${l}`);
    return lines.join('\n');
  });
  const n = probes.filter((p) => p.status === 'would-change').length;
  const tally = n === 0 ? `all ${plan.steps.length} steps are already satisfied: a real run would change nothing` : `${n} of ${plan.steps.length} steps would change`;
  return [head, ...body, ...plan.notes.map((x) => `note: ${x}`), tally].join('\n');
}
