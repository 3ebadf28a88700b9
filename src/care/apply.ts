// applyRepair: runs the planned steps in order through their handlers; a failure names the step and
// what was already done (every step checks before it acts, so running repair again continues).
import type { Activity } from '../base/context.js';
import { StepError } from '../base/errors.js';
import { faultPoint } from '../base/fault.js';
import type { RepairContext } from './repair-context.js';
import { handlers } from './handlers.js';
import { describeStep, type RepairStep } from './steps.js';

export interface RepairStepResult {
  kind: RepairStep['kind'];
  title: string;
  result: string;
}

/** Shows one step while it runs; done/fail end it (src/cli/ui/activity.ts through the context). */
export type StepProgress = (index: number, total: number, step: RepairStep) => Activity;

export async function applyRepair(steps: RepairStep[], rc: RepairContext, onStep?: StepProgress): Promise<RepairStepResult[]> {
  const done: RepairStepResult[] = [];
  for (const [i, step] of steps.entries()) {
    const title = describeStep(step);
    const shown = onStep?.(i, steps.length, step);
    let result: string;
    try {
      result = await (handlers[step.kind] as (s: RepairStep, c: RepairContext) => Promise<string>)(step, rc);
    } catch (error) {
      shown?.fail(error instanceof Error ? error.message.split('\n')[0] : String(error));
      throw new StepError(title, error, `${done.length} earlier repair step(s) are done and stay done; nothing else was changed. Fix the cause and run repair again.`);
    }
    shown?.done(result);
    faultPoint(`repair-after-${step.kind}`);
    done.push({ kind: step.kind, title, result });
  }
  return done;
}
