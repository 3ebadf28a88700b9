// The pure planner of init: steps, their actions, the planner itself and its descriptions.
export type { Plan, InitStep, Step, StepKind } from '../../model/steps.js';
export { planInit, requireRoot } from './plan-init.js';
export { describePlan, describeStep, planToJson } from './describe.js';
export { describeDryRun, type StepProbe } from './describe.js';
export { summarizePlan } from './summary.js';
