// Repair's steps: the kinds it shares with init (install/steps/, with their extra behaviour for repair in
// the step: the unit start, the backups, the reload) and its own, one module each. Only the repair command
// hands this table to the engine: care's own files never import it (a check names steps, it does not run them).
import type { DeinitStep, RepairStep } from '../../model/steps.js';
import { INIT_STEPS, SHARED_STEPS } from '../../install/steps/index.js';
import { moduleOf, type StepTable } from '../../install/steps/module.js';
import { deleteSubvolume } from './delete-subvolume.js';
import { moveSnapshotsBack } from './move-snapshots-back.js';
import { nocowRewrite } from './nocow-rewrite.js';
import { rebuildMetadata } from './rebuild-metadata.js';
import { recoverInterrupted } from './recover-interrupted.js';
import { remountCrypt } from './remount-crypt.js';
import { removeFile } from './remove-file.js';
import { removeTree } from './remove-tree.js';
import { setAside } from './set-aside.js';
import { setOwner } from './set-owner.js';
import { unmountStacked } from './unmount-stacked.js';
import { stopDatabaseStep } from './stop-database.js';
import { deleteData } from './delete-data.js';
import { removeState } from './remove-state.js';
import { unregister } from './unregister.js';

export const REPAIR_STEPS: StepTable<RepairStep> = {
  ...SHARED_STEPS,
  'unmount-stacked': unmountStacked,
  'remount-crypt': remountCrypt,
  'set-owner': setOwner,
  'delete-subvolume': deleteSubvolume,
  'remove-tree': removeTree,
  'remove-file': removeFile,
  'nocow-rewrite': nocowRewrite,
  'set-aside': setAside,
  'recover-interrupted': recoverInterrupted,
  'rebuild-metadata': rebuildMetadata,
  'move-snapshots-back': moveSnapshotsBack,
};

/** One line saying what the step does, for the plan and the report. */
export function describeRepairStep(step: RepairStep): string {
  return moduleOf(REPAIR_STEPS, step).describe(step).title;
}

/** deinit's steps: init's removals and repair's remove-file, and its own kinds (handed to the engine by the command). */
export const DEINIT_STEPS: StepTable<DeinitStep> = {
  'remove-unit': INIT_STEPS['remove-unit'],
  unmount: INIT_STEPS.unmount,
  'remove-fstab-line': SHARED_STEPS['remove-fstab-line'],
  'remove-mount-unit': SHARED_STEPS['remove-mount-unit'],
  'remove-file': removeFile,
  'stop-database': stopDatabaseStep,
  'delete-data': deleteData,
  'remove-state': removeState,
  unregister,
};

/** What a deinit step does, as data (the plan, --dry-run). */
export const deinitStepActions = (step: DeinitStep) => moduleOf(DEINIT_STEPS, step).describe(step);
