// deinit for people: the plan (each step with its exact commands and, in a dry run, whether it is already
// so), what stays, and the report of what was done.
import { shellLine } from '../base/output/text.js';
import type { DeinitStep } from '../model/steps.js';
import type { Probe, StepActions } from '../install/steps/module.js';

export interface DeinitView {
  crypt: { name: string; path: string };
  steps: DeinitStep[];
  actions: StepActions[];
  /** A dry run: what each step found on this host. */
  probes?: Probe[];
  /** What stays (the data, unless --delete-data), or null. */
  kept: string | null;
  /** A deinit that was interrupted and is being finished. */
  finishing: boolean;
}

export function describeDeinit(v: DeinitView): string {
  const head = `${v.finishing ? 'Finish removing' : 'Remove'} the crypt "${v.crypt.name}" at ${v.crypt.path} (undo init):`;
  const body = v.steps.map((_, i) => {
    const a = v.actions[i]!;
    const p = v.probes?.[i];
    if (p?.status === 'satisfied') return `${i + 1}. ${a.title}: already so${p.detail ? ` (${p.detail})` : ''}`;
    const lines = [`${i + 1}. ${a.title}${p ? `: would change${p.detail ? ` (${p.detail})` : ''}` : ''}`];
    for (const act of a.sequence) {
      if ('op' in act) lines.push(`     - ${act.op}`);
      else if ('run' in act) lines.push(`     $ ${shellLine(act.run)}`);
    }
    if (p?.diff) for (const l of p.diff.split('\n')) lines.push(`       ${l}`);
    return lines.join('\n');
  });
  return [head, ...body, ...(v.kept ? [`kept: ${v.kept}`] : [])].join('\n');
}
