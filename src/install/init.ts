// The installer's facade, for `init` and for the interactive UI: answers → detect (reads only) → resolve
// (decides) → plan (pure) → apply; check() is the headless whole of it short of applying.
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
import { DEFAULTS } from './answers/defaults.js';
import path from 'node:path';

export { detectHost, type DetectContext } from './detect/host.js';
export { resolveConfig, chooseMethod } from './resolve.js';
export { planInit, requireRoot, describePlan, describeDryRun, summarizePlan, planToJson, type Plan, type InitStep, type Step } from './plan/index.js';
export { proposeMethod, describeFacts, type Proposal } from './propose.js';
export { answersFromConfig, renderAnswersYaml, writeAnswersFile } from './answers/write.js';
export { applyPlan, probePlan, probeStep, stepActions, lineReporter, silentReporter, type ProgressReporter, type StepEvent, type ApplyResult, type StepContext, type Probe } from './steps/index.js';
export { registryOption } from './plan/schedule.js';

/** Answers with nothing set: every value takes its default. */
export function defaultAnswers(): Answers {
  return answersSchema.parse({ version: 1 });
}

export interface Prepared {
  facts: HostFacts;
  config: Config;
  plan: Plan;
}

/** What a check made of one set of answers: the answers themselves, what was detected for them, the plan. */
export interface Checked extends Prepared {
  answers: Answers;
}

/**
 * Where detection looks for these answers (the crypt path and user, the registry, the image or device,
 * the persistence files, the postgres user), with the previous facts filling in what the answers leave to
 * defaults: two sets of answers with the same locations would be detected alike.
 */
function locations(a: Answers, facts: HostFacts): string {
  const method = a.method === 'auto' ? facts.existingConfig?.method : a.method;
  const pg = a.postgres?.enabled ?? DEFAULTS['postgres.enabled'];
  return JSON.stringify([
    a.crypt?.user === undefined ? null : String(a.crypt.user),
    a.crypt?.path === undefined ? facts.cryptPath : path.resolve(a.crypt.path),
    a.crypt?.name ?? facts.registry.name,
    a.registry?.dir ?? facts.registry.dir,
    a.registry?.state ?? facts.registry.state,
    method === undefined || method === 'loopback' ? (a.loopback?.image ?? facts.image?.path ?? null) : null,
    a.partition?.device ?? (method === 'partition' ? (facts.existingConfig?.partition?.device ?? null) : null),
    a.persist?.fstab ?? null,
    a.persist?.unitDir ?? null,
    pg ? String(a.postgres?.osUser ?? facts.existingConfig?.postgres?.osUser ?? DEFAULTS['postgres.osUser']) : null,
    pg ? (a.postgres?.container?.name ?? null) : null,
    pg ? (a.postgres?.dir ?? null) : null,
  ]);
}

/**
 * The host as these answers see it: detected, or — reuse — the facts detected a moment ago for answers that
 * look in the same places (the interactive init asks its questions on the facts of its first detection, and
 * then checks the answers it got against those same facts instead of reading the host again).
 */
export async function detectFor(answers: Answers, ctx: DetectContext, reuse?: Checked | { answers: Answers; facts: HostFacts }): Promise<HostFacts> {
  if (reuse && locations(answers, reuse.facts) === locations(reuse.answers, reuse.facts)) return reuse.facts;
  return detectHost(answers, ctx);
}

/** resolve → the postgres bin check → plan, on facts already detected. Throws UsageError/RefusedError on refusals. */
export async function checkWith(answers: Answers, facts: HostFacts): Promise<Checked> {
  try {
    const config = resolveConfig(answers, facts);
    const bin = config.postgres?.bin;
    const problem = bin ? await pgBinProblem(bin) : undefined;
    if (problem) {
      throw new UsageError(`postgres.bin: ${problem}`, {
        hint: 'Name the directory that holds pg_ctl (e.g. /usr/lib/postgresql/15/bin), or remove postgres.bin to use PATH.',
      });
    }
    return { answers, facts, config, plan: planInit(facts, config) };
  } catch (e) {
    // A refusal about one key (no such user, a system directory…) still points at its line in the file.
    throw locateAnswerError(e, answers);
  }
}

/** The headless init: detect (or reuse) → resolve → plan, without changing anything. What the UI calls too. */
export async function check(answers: Answers, ctx: DetectContext, opts: { reuse?: Checked | { answers: Answers; facts: HostFacts } } = {}): Promise<Checked> {
  let facts: HostFacts;
  try {
    facts = await detectFor(answers, ctx, opts.reuse);
  } catch (e) {
    throw locateAnswerError(e, answers);
  }
  return checkWith(answers, facts);
}

/** detect → resolve → plan, without changing anything (check, never reusing). */
export const prepareInit = (answers: Answers, ctx: DetectContext): Promise<Prepared> => check(answers, ctx);
