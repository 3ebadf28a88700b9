// The installer's pieces, for `init` and for the interactive UI: detect → resolve → plan → apply.
import type { Answers } from './answers/schema.js';
import { answersSchema } from './answers/schema.js';
import type { Config } from '../model/config.js';
import { resolveConfig } from './resolve.js';
import type { HostFacts } from './detect/facts.js';
import { detectHost, type DetectContext } from './detect/host.js';
import { planInit, type Plan } from './plan/index.js';
import { locateAnswerError } from './answers/load.js';
import { UsageError } from '../base/errors.js';
import { pgBinProblem } from '../base/pg/bin.js';

export { detectHost, type DetectContext } from './detect/host.js';
export { resolveConfig, chooseMethod } from './resolve.js';
export { planInit, requireRoot, describePlan, describeDryRun, summarizePlan, planToJson, type Plan, type InitStep, type Step } from './plan/index.js';
export { proposeMethod, describeFacts, type Proposal } from './propose.js';
export { answersFromConfig, renderAnswersYaml, writeAnswersFile } from './answers/write.js';
export { applyPlan, probePlan, probeStep, stepActions, lineReporter, silentReporter, type ProgressReporter, type StepEvent, type ApplyResult, type StepContext } from './steps/index.js';

/** Answers with nothing set: every value takes its default. */
export function defaultAnswers(): Answers {
  return answersSchema.parse({ version: 1 });
}

export interface Prepared {
  facts: HostFacts;
  config: Config;
  plan: Plan;
}

/** detect → resolve → plan, without changing anything. Throws UsageError/RefusedError on refusals. */
export async function prepareInit(answers: Answers, ctx: DetectContext): Promise<Prepared> {
  try {
    const facts = await detectHost(answers, ctx);
    const config = resolveConfig(answers, facts);
    const bin = config.postgres?.bin;
    const problem = bin ? await pgBinProblem(bin) : undefined;
    if (problem) {
      throw new UsageError(`postgres.bin: ${problem}`, {
        hint: 'Name the directory that holds pg_ctl (e.g. /usr/lib/postgresql/15/bin), or remove postgres.bin to use PATH.',
      });
    }
    return { facts, config, plan: planInit(facts, config) };
  } catch (e) {
    // A refusal about one key (no such user, a system directory…) still points at its line in the file.
    throw locateAnswerError(e, answers);
  }
}
