// Init's steps: one module per kind (the table), and the engine bound to it — applyPlan runs a plan,
// probePlan/probeStep check it without acting (--dry-run), describeStepActions says what a step does.
// Repair's table (care/steps/index.ts) takes the rows of the kinds it shares from here.
import { CryptError } from '../../base/errors.js';
import type { InitStep, Plan } from '../../model/steps.js';
import type { StepContext } from './context.js';
import { probeSteps, probeWith, runSteps, type ApplyResult } from './engine.js';
import type { Probe, StepActions, StepTable } from './module.js';
import { moduleOf } from './module.js';
import type { ProgressReporter } from './reporter.js';
import { copyData } from './copy-data.js';
import { createDir } from './create-dir.js';
import { createImage } from './create-image.js';
import { createPgdata } from './create-pgdata.js';
import { createWalGen } from './create-wal-gen.js';
import { createSubvolume } from './create-subvolume.js';
import { enableMountUnit } from './enable-mount-unit.js';
import { enableTimer } from './enable-timer.js';
import { growImage } from './grow-image.js';
import { installRuntimeStep } from './install-runtime.js';
import { mkfsBtrfs } from './mkfs-btrfs.js';
import { mount } from './mount.js';
import { moveAside } from './move-aside.js';
import { ownDir } from './own-dir.js';
import { register } from './register.js';
import { removeDir } from './remove-dir.js';
import { removeFstabLine } from './remove-fstab-line.js';
import { removeMountUnit } from './remove-mount-unit.js';
import { removeUnit } from './remove-unit.js';
import { unmount } from './unmount.js';
import { writeFile } from './write-file.js';
import { writeFstabLine } from './write-fstab-line.js';
import { writeMountRecord } from './write-mount-record.js';
import { writeMountUnit } from './write-mount-unit.js';
import { writeUnit } from './write-unit.js';
import { receiverDir } from './receiver-dir.js';
import { authorizedKey } from './authorized-key.js';
import { replicateKey } from './replicate-key.js';

/** The kinds init and repair share (model/steps.ts SharedStep): repair's table takes these rows. */
export const SHARED_STEPS = {
  'create-dir': createDir,
  'write-mount-record': writeMountRecord,
  mount,
  'write-fstab-line': writeFstabLine,
  'remove-fstab-line': removeFstabLine,
  'write-mount-unit': writeMountUnit,
  'remove-mount-unit': removeMountUnit,
  'enable-mount-unit': enableMountUnit,
  'create-pgdata': createPgdata,
  'install-runtime': installRuntimeStep,
};

export const INIT_STEPS: StepTable<InitStep> = {
  ...SHARED_STEPS,
  'create-image': createImage,
  'grow-image': growImage,
  'mkfs-btrfs': mkfsBtrfs,
  unmount,
  'remove-dir': removeDir,
  'move-aside': moveAside,
  'copy-data': copyData,
  'create-subvolume': createSubvolume,
  'create-wal-gen': createWalGen,
  'write-file': writeFile,
  'own-dir': ownDir,
  register,
  'write-unit': writeUnit,
  'enable-timer': enableTimer,
  'remove-unit': removeUnit,
  'receiver-dir': receiverDir,
  'authorized-key': authorizedKey,
  'replicate-key': replicateKey,
};

/** What a step does, as data: its title, the exact commands and the files it writes (--dry-run, --json). */
export function stepActions(step: InitStep): StepActions {
  return moduleOf(INIT_STEPS, step).describe(step);
}

export async function applyPlan(plan: Plan, ctx: StepContext, reporter: ProgressReporter): Promise<ApplyResult> {
  return runSteps(plan.steps, INIT_STEPS, ctx, {
    fault: 'init',
    reporter,
    afterFailure: (results, error) =>
      error instanceof CryptError && error.hint
        ? error.hint
        : `${results.filter((r) => r.status === 'done').length} earlier step(s) changed something and stay in place; nothing was deleted. Fix the cause and run init again: it continues where it stopped.`,
  });
}

export const probeStep = (step: InitStep, ctx: StepContext): Promise<Probe> => probeWith(INIT_STEPS, step, ctx);
export const probePlan = (plan: Plan, ctx: StepContext): Promise<Probe[]> => probeSteps(plan.steps, INIT_STEPS, ctx);

export type { StepContext } from './context.js';
export type { ApplyResult, StepResult } from './engine.js';
export type { Probe, ProbeStatus, StepActions, FileWrite, Action, Outcome } from './module.js';
export { lineReporter, silentReporter, type ProgressReporter, type StepEvent, type StepStatus } from './reporter.js';
