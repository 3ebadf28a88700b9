// applyRepair: runs the planned steps in order through their handlers; a failure names the step and
// what was already done (every step checks before it acts, so running repair again continues).
import { StepError } from '../core/errors.js';
import { faultPoint } from '../core/fault.js';
import type { RepairContext } from './context.js';
import { handlers } from './handlers.js';
import { describeStep, type RepairStep } from './steps.js';

export interface RepairStepResult {
  kind: RepairStep['kind'];
  title: string;
  result: string;
}

export async function applyRepair(steps: RepairStep[], rc: RepairContext, onStep: (line: string) => void = () => {}): Promise<RepairStepResult[]> {
  const done: RepairStepResult[] = [];
  for (const [i, step] of steps.entries()) {
    const title = describeStep(step);
    onStep(`[${i + 1}/${steps.length}] ${title}`);
    let result: string;
    try {
      result = await (handlers[step.kind] as (s: RepairStep, c: RepairContext) => Promise<string>)(step, rc);
    } catch (error) {
      throw new StepError(title, error, `${done.length} earlier repair step(s) are done and stay done; nothing else was changed. Fix the cause and run repair again.`);
    }
    faultPoint(`repair-after-${step.kind}`);
    done.push({ kind: step.kind, title, result });
  }
  return done;
}
