// The one step engine, for init's plan and repair's: each step through its kind's module, in order, with
// progress events, the fault point after each step (crash tests: LYCHD_CRYPT_FAULT=init-after-<kind> or
// repair-after-<kind> kills the process right there), and a failure wrapped with the step's title and what
// stays done, so the user knows how far it got. probeSteps is the same walk without acting (--dry-run).
import { StepError } from '../../base/errors.js';
import { faultPoint } from '../../base/fault.js';
import type { Step } from '../../model/steps.js';
import type { StepContext } from './context.js';
import { moduleOf, wouldChange, type Outcome, type Probe, type StepTable } from './module.js';
import type { ProgressReporter, StepStatus } from './reporter.js';

export interface StepResult {
  kind: Step['kind'];
  title: string;
  status: Exclude<StepStatus, 'start' | 'fail'>;
  detail?: string;
}

export interface ApplyResult {
  steps: StepResult[];
  /** How many steps changed something; 0 on a healthy re-run. */
  changed: number;
}

export interface EngineOptions {
  /** Names the fault point after each step: `<fault>-after-<kind>`. */
  fault: 'init' | 'repair' | 'deinit' | 'resize' | 'migrate';
  reporter: ProgressReporter;
  /** The hint of the error a failed step becomes: what stays done, and how to go on. */
  afterFailure: (done: StepResult[], error: unknown) => string;
}

export async function runSteps<S extends Step>(steps: readonly S[], table: StepTable<S>, ctx: StepContext, opts: EngineOptions): Promise<ApplyResult> {
  const results: StepResult[] = [];
  const total = steps.length;
  for (const [index, step] of steps.entries()) {
    const m = moduleOf(table, step);
    const title = m.describe(step).title;
    opts.reporter.onStep({ index, total, step, title, status: 'start' });
    let outcome: Outcome;
    try {
      outcome = await m.apply(step, ctx);
    } catch (error) {
      opts.reporter.onStep({ index, total, step, title, status: 'fail', error });
      throw new StepError(title, error, opts.afterFailure(results, error));
    }
    faultPoint(`${opts.fault}-after-${step.kind}`);
    const status = outcome.changed ? 'done' : 'unchanged';
    opts.reporter.onStep({ index, total, step, title, status, detail: outcome.detail });
    results.push({ kind: step.kind, title, status, ...(outcome.detail ? { detail: outcome.detail } : {}) });
  }
  return { steps: results, changed: results.filter((r) => r.status === 'done').length };
}

/** One step's probe; a probe that cannot look (missing tool, no permission) says the step would run. */
export async function probeWith<S extends Step>(table: StepTable<S>, step: S, ctx: StepContext): Promise<Probe> {
  try {
    return await moduleOf(table, step).probe(step, ctx);
  } catch (e) {
    return wouldChange(`could not check: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Every step's probe, in order. Steps after one that would change are probed against today's host. */
export async function probeSteps<S extends Step>(steps: readonly S[], table: StepTable<S>, ctx: StepContext): Promise<Probe[]> {
  const out: Probe[] = [];
  for (const step of steps) out.push(await probeWith(table, step, ctx));
  return out;
}
