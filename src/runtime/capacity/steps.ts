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
import { replaceDevice } from '../../install/steps/replace-device.js';
import { detachLoop } from '../../install/steps/detach-loop.js';
import { writeFstabLine } from '../../install/steps/write-fstab-line.js';
import { writeMountUnit } from '../../install/steps/write-mount-unit.js';
import { writeMountRecord } from '../../install/steps/write-mount-record.js';

export const CAPACITY_STEPS: StepTable<CapacityStep> = {
  'resize-image': resizeImage,
  'refresh-loop': refreshLoop,
  'resize-btrfs': resizeBtrfs,
  'replace-device': replaceDevice,
  'detach-loop': detachLoop,
  'write-fstab-line': writeFstabLine,
  'write-mount-unit': writeMountUnit,
  'write-mount-record': writeMountRecord,
};

export const describeCapacityStep = (s: CapacityStep): StepActions => moduleOf(CAPACITY_STEPS, s).describe(s);
export const probeCapacitySteps = (steps: CapacityStep[], ctx: StepContext): Promise<Probe[]> => probeSteps(steps, CAPACITY_STEPS, ctx);

/** Runs the steps; the fault point after each is `<resize|migrate>-after-<kind>` (crash tests). */
export function applyCapacitySteps(steps: CapacityStep[], ctx: StepContext, reporter: ProgressReporter, fault: 'resize' | 'migrate' = 'resize'): Promise<ApplyResult> {
  return runSteps(steps, CAPACITY_STEPS, ctx, {
    fault,
    reporter,
    afterFailure: (done, error) => {
      const changed = done.filter((r) => r.status === 'done').length;
      if (changed === 0) return error instanceof CryptError && error.hint ? error.hint : 'Nothing was changed. Fix the cause and run it again.';
      return `${changed} earlier step(s) are done and stay so; the journal keeps the operation: fix the cause and run \`lychd-crypt ${fault}\` again (or \`lychd-crypt repair\`): it finishes it.`;
    },
  });
}
