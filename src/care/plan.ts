// planRepair: doctor's findings → the ordered repair steps (pure). Problems without a safe automatic fix
// are listed as manual; checks that could not run are listed so the plan does not look complete when it
// is not.
import type { Check } from './findings.js';
import { isDestructive, STEP_ORDER, type RepairStep } from './steps.js';

export interface RepairPlan {
  version: 1;
  steps: RepairStep[];
  /** Problems repair will not touch, with what a person must do. */
  manual: { id: string; finding: string; fix: string }[];
  /** Whether any step deletes or rewrites data (needs --yes or a confirmation). */
  destructive: boolean;
}

export function planRepair(checks: Check[]): RepairPlan {
  const steps: RepairStep[] = [];
  const seen = new Set<string>();
  for (const c of checks) {
    if (c.status !== 'problem') continue;
    for (const s of c.steps) {
      const key = JSON.stringify(s);
      // The same fix found by two checks is done once; stacked unmounts are counted, not merged.
      if (s.kind !== 'unmount-stacked' && seen.has(key)) continue;
      seen.add(key);
      steps.push(s);
    }
  }
  const rank = (s: RepairStep) => STEP_ORDER.indexOf(s.kind);
  steps.sort((a, b) => rank(a) - rank(b)); // stable: checks' order within a kind
  const manual = checks
    .filter((c) => c.status === 'problem' && c.fix && 'manual' in c.fix)
    .map((c) => ({ id: c.id, finding: c.finding, fix: (c.fix as { manual: string }).manual }));
  return { version: 1, steps, manual, destructive: steps.some(isDestructive) };
}
