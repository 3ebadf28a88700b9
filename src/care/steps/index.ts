// Repair's steps: the kinds it shares with init (install/steps/, with their extra behaviour for repair in
// the step: the unit start, the backups, the reload) and its own, one module each. Only the repair command
// hands this table to the engine: care's own files never import it (a check names steps, it does not run them).
import type { RepairStep } from '../../model/steps.js';
import { SHARED_STEPS } from '../../install/steps/index.js';
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
