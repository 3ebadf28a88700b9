// The resize's steps: one module per kind (install/steps/), run by the one step engine, probed for --dry-run.
import { CryptError } from '../../base/errors.js';
import type { CapacityStep } from '../../model/steps.js';
import { probeSteps, runSteps, type ApplyResult } from '../../install/steps/engine.js';
import type { Probe, StepTable } from '../../install/steps/module.js';
import { moduleOf, type StepActions } from '../../install/steps/module.js';
import type { ProgressReporter } from '../../install/steps/reporter.js';
import type { StepContext } from '../../install/steps/context.js';
import { resizeImage } from '../../install/steps/resize-image.js';
import { refreshLoop } from '../../install/steps/refresh-loop.js';
import { resizeBtrfs } from '../../install/steps/resize-btrfs.js';

export const CAPACITY_STEPS: StepTable<CapacityStep> = {
  'resize-image': resizeImage,
  'refresh-loop': refreshLoop,
  'resize-btrfs': resizeBtrfs,
};

export const describeCapacityStep = (s: CapacityStep): StepActions => moduleOf(CAPACITY_STEPS, s).describe(s);
export const probeCapacitySteps = (steps: CapacityStep[], ctx: StepContext): Promise<Probe[]> => probeSteps(steps, CAPACITY_STEPS, ctx);

/** Runs the steps; the fault point after each is `resize-after-<kind>` (crash tests). */
export function applyCapacitySteps(steps: CapacityStep[], ctx: StepContext, reporter: ProgressReporter): Promise<ApplyResult> {
  return runSteps(steps, CAPACITY_STEPS, ctx, {
    fault: 'resize',
    reporter,
    afterFailure: (done, error) => {
      const changed = done.filter((r) => r.status === 'done').length;
      if (changed === 0) return error instanceof CryptError && error.hint ? error.hint : 'Nothing was changed. Fix the cause and run it again.';
      return `${changed} earlier step(s) are done and stay so; the journal keeps the resize: fix the cause and run \`lychd-crypt resize\` again: it finishes it.`;
    },
  });
}
