// Applying an init plan: the handler table, the progress reporter interface and its default.
export { applyPlan, type ApplyResult, type StepResult } from './apply.js';
export type { ApplyContext } from './context.js';
export { lineReporter, silentReporter, type ProgressReporter, type StepEvent, type StepStatus } from './reporter.js';
export { probePlan, probeStep, type Probe, type ProbeStatus } from './probe.js';
