// Repair's steps through the one step engine (install/steps/engine.ts): each step shown while it runs,
// what it did said in the report's words, and the hint of a failure (every step checks before it acts, so
// running repair again continues). The table is handed in: only the repair command knows it
// (care/steps/index.ts).
import type { Activity } from '../base/context.js';
import type { RepairStep } from '../model/steps.js';
import type { StepContext } from '../install/steps/context.js';
import { runSteps, type StepResult } from '../install/steps/engine.js';
import { SHARED_STEPS } from '../install/steps/index.js';
import type { StepTable } from '../install/steps/module.js';

export interface RepairStepResult {
  kind: RepairStep['kind'];
  title: string;
  result: string;
}

/** Shows one step while it runs; done/fail end it (src/cli/ui/activity.ts through the context). */
export type StepProgress = (index: number, total: number, title: string) => Activity;

/** Runs repair steps: what the command hands to the parts of repair that apply steps (root's part). */
export type ApplyRepair = (steps: RepairStep[], ctx: StepContext) => Promise<RepairStepResult[]>;

/**
 * What a step did, in the report's words: the kinds repair shares with init say `done` (or what was done)
 * and `already so (…)`; repair's own kinds say their sentence either way.
 */
export function resultText(kind: RepairStep['kind'], status: StepResult['status'], detail?: string): string {
  if (!(kind in SHARED_STEPS)) return detail ?? 'done';
  return status === 'done' ? (detail ?? 'done') : `already so (${detail})`;
}

export async function applyRepairSteps(steps: RepairStep[], table: StepTable<RepairStep>, ctx: StepContext, onStep?: StepProgress): Promise<RepairStepResult[]> {
  let shown: Activity | undefined;
  const applied = await runSteps(steps, table, ctx, {
    fault: 'repair',
    reporter: {
      onStep(e) {
        if (e.status === 'start') shown = onStep?.(e.index, e.total, e.title);
        else if (e.status === 'fail') shown?.fail(e.error instanceof Error ? e.error.message.split('\n')[0] : String(e.error));
        else shown?.done(resultText(e.step.kind as RepairStep['kind'], e.status, e.detail));
      },
    },
    afterFailure: (done) => `${done.length} earlier repair step(s) are done and stay done; nothing else was changed. Fix the cause and run repair again.`,
  });
  return applied.steps.map((r) => ({ kind: r.kind as RepairStep['kind'], title: r.title, result: resultText(r.kind as RepairStep['kind'], r.status, r.detail) }));
}
