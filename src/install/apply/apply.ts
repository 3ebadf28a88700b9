// applyPlan: runs each step through its handler (one per kind; an unknown kind is a type error), reports
// progress, and wraps a failure with the step so the user knows how far it got.
import { CryptError, StepError } from '../../base/errors.js';
import { faultPoint } from '../../base/fault.js';
import { stepActions } from '../plan/actions.js';
import type { Plan, Step } from '../../model/steps.js';
import type { ApplyContext, Outcome } from './context.js';
import { createImage, copyData, createDir, installRuntime, moveAside, removeDir, writeFile } from './handlers-fs.js';
import { createPgdata, createSubvolume, growImage, mkfsBtrfs } from './handlers-btrfs.js';
import { enableMountUnit, mount, removeFstabLine, removeMountUnit, unmount, writeFstabLine, writeMountRecord, writeMountUnit } from './handlers-mount.js';
import { ownDir, register } from './handlers-registry.js';
import type { ProgressReporter, StepStatus } from './reporter.js';
import { enableTimer, removeUnit, writeUnit } from './handlers-schedule.js';

type Handlers = { [K in Step['kind']]: (s: Extract<Step, { kind: K }>, ctx: ApplyContext) => Promise<Outcome> };

const handlers: Handlers = {
  'create-dir': createDir,
  'create-image': createImage,
  'grow-image': growImage,
  'mkfs-btrfs': mkfsBtrfs,
  'write-mount-record': writeMountRecord,
  mount,
  unmount,
  'remove-dir': removeDir,
  'move-aside': moveAside,
  'copy-data': copyData,
  'write-fstab-line': writeFstabLine,
  'remove-fstab-line': removeFstabLine,
  'write-mount-unit': writeMountUnit,
  'remove-mount-unit': removeMountUnit,
  'enable-mount-unit': enableMountUnit,
  'create-subvolume': createSubvolume,
  'create-pgdata': createPgdata,
  'write-file': writeFile,
  'own-dir': ownDir,
  register,
  'install-runtime': installRuntime,
  'write-unit': writeUnit,
  'enable-timer': enableTimer,
  'remove-unit': removeUnit,
};

export interface StepResult {
  kind: Step['kind'];
  title: string;
  status: Exclude<StepStatus, 'start'>;
  detail?: string;
}

export interface ApplyResult {
  steps: StepResult[];
  /** How many steps changed something; 0 on a healthy re-run. */
  changed: number;
}

function runHandler(step: Step, ctx: ApplyContext): Promise<Outcome> {
  const h = handlers[step.kind] as (s: Step, c: ApplyContext) => Promise<Outcome>;
  if (!h) throw new Error(`no handler for step kind ${step.kind}`);
  return h(step, ctx);
}

export async function applyPlan(plan: Plan, ctx: ApplyContext, reporter: ProgressReporter): Promise<ApplyResult> {
  const results: StepResult[] = [];
  const total = plan.steps.length;
  for (const [index, step] of plan.steps.entries()) {
    const title = stepActions(step).title;
    reporter.onStep({ index, total, step, title, status: 'start' });
    let outcome: Outcome;
    try {
      outcome = await runHandler(step, ctx);
    } catch (error) {
      reporter.onStep({ index, total, step, title, status: 'fail', error });
      const done = results.filter((r) => r.status === 'done').length;
      throw new StepError(title, error, error instanceof CryptError && error.hint
        ? error.hint
        : `${done} earlier step(s) changed something and stay in place; nothing was deleted. Fix the cause and run init again: it continues where it stopped.`);
    }
    // Crash tests: LYCHD_CRYPT_FAULT=init-after-<kind> kills the process right after that step.
    faultPoint(`init-after-${step.kind}`);
    const status = outcome.changed ? 'done' : 'unchanged';
    reporter.onStep({ index, total, step, title, status, detail: outcome.detail });
    results.push({ kind: step.kind, title, status, ...(outcome.detail ? { detail: outcome.detail } : {}) });
  }
  return { steps: results, changed: results.filter((r) => r.status === 'done').length };
}
