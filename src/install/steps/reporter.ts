// Progress of the step engine: one event per step transition, so the UI can show a spinner/task log, the
// unattended run can log lines, and repair can show each step as it runs.
import type { Step } from '../../model/steps.js';

export type StepStatus = 'start' | 'done' | 'unchanged' | 'fail';

export interface StepEvent {
  index: number;
  total: number;
  step: Step;
  title: string;
  status: StepStatus;
  /** Why unchanged, or what was done. */
  detail?: string;
  error?: unknown;
}

export interface ProgressReporter {
  onStep(event: StepEvent): void;
}

/** The default: one line per finished step ("✓ done", "= unchanged", "✗ failed"). */
export function lineReporter(write: (line: string) => void): ProgressReporter {
  return {
    onStep(e) {
      const n = `[${e.index + 1}/${e.total}]`;
      if (e.status === 'done') write(`${n} ${e.title}${e.detail ? ` (${e.detail})` : ''}`);
      else if (e.status === 'unchanged') write(`${n} unchanged: ${e.title}${e.detail ? ` (${e.detail})` : ''}`);
      else if (e.status === 'fail') write(`${n} FAILED: ${e.title}: ${e.error instanceof Error ? e.error.message : String(e.error)}`);
    },
  };
}

export const silentReporter: ProgressReporter = { onStep() {} };
