// The resize operation on an opened, locked crypt (root): read the facts, plan, then journal → steps →
// the registry's new size → clear. An interrupted resize is finished first (finishResize), from its
// journal: the same steps towards the size it recorded, their checks already passed when it started.
import { randomHex } from '../../base/ids.js';
import { CryptError } from '../../base/errors.js';
import type { OpContext } from '../../base/context.js';
import type { OpenCrypt } from '../../base/crypt/open.js';
import { writeEntry } from '../../base/registry/store.js';
import { formatSize } from '../../model/units.js';
import type { CapacityStep } from '../../model/steps.js';
import { lineReporter, silentReporter, type ProgressReporter } from '../../install/steps/reporter.js';
import type { Probe, StepActions } from '../../install/steps/module.js';
import { readCapacityFacts, type CapacityFacts } from './facts.js';
import { planResize, type ResizePlan, type SizeRequest } from './plan.js';
import { clearCapacityJournal, readCapacityJournal, writeCapacityJournal, type CapacityEntry } from './journal.js';
import { applyCapacitySteps, describeCapacityStep, probeCapacitySteps } from './steps.js';

export interface ResizeReport {
  plan: ResizePlan;
  /** --dry-run: each step's probe; otherwise what each did. */
  steps: { kind: CapacityStep['kind']; actions: StepActions; probe?: Probe; status?: string; detail?: string }[];
  /** An interrupted resize finished first, one line each. */
  finished: string[];
  dryRun: boolean;
}

/** Grow with fallocate: asked for in the answers, or the image has no holes today (it was preallocated). */
function preallocateOf(crypt: OpenCrypt, f: CapacityFacts): boolean {
  const asked = crypt.config.loopback?.preallocate;
  if (asked !== undefined) return asked;
  return !!f.image && f.image.allocated >= f.image.size;
}

const reporterOf = (ctx: OpContext): ProgressReporter => (ctx.log ? lineReporter((l) => ctx.log.info(l)) : silentReporter);

/** Records the new size in the registry (root's: the crypt's definition says how large its image is). */
async function recordSize(crypt: OpenCrypt, toBytes: number, preallocated: boolean): Promise<void> {
  const lb = crypt.entry.config.loopback;
  if (!lb || (lb.sizeBytes === toBytes && (!preallocated || lb.preallocate))) return;
  crypt.entry.config = { ...crypt.entry.config, loopback: { ...lb, sizeBytes: toBytes, ...(preallocated ? { preallocate: true } : {}) } };
  crypt.config = crypt.entry.config;
  await writeEntry(crypt.config.registry.dir, crypt.entry);
}

async function run(ctx: OpContext, crypt: OpenCrypt, plan: ResizePlan, entry: CapacityEntry, reporter: ProgressReporter) {
  await writeCapacityJournal(crypt.config, entry);
  let changed = 0;
  const counting: ProgressReporter = {
    onStep(e) {
      if (e.status === 'done') changed++;
      reporter.onStep(e);
    },
  };
  const r = await applyCapacitySteps(plan.steps, { runner: ctx.runner, crypt }, counting).catch(async (e: unknown) => {
    // Nothing changed (Btrfs refused to shrink, the first step failed): nothing is left to finish.
    if (changed === 0) await clearCapacityJournal(crypt.config);
    throw e;
  });
  await recordSize(crypt, plan.toBytes, entry.preallocate);
  await clearCapacityJournal(crypt.config);
  return r;
}

/** Finishes a resize a crash interrupted (its journal); the lines say what was done. */
export async function finishResize(ctx: OpContext, crypt: OpenCrypt): Promise<string[]> {
  const entry = await readCapacityJournal(crypt.config);
  if (!entry) return [];
  if (entry.op === 'migrate') return (await import('./migrate.js')).finishMigrate(ctx, crypt, entry);
  const facts = await readCapacityFacts(ctx.runner, crypt.config);
  const plan = planResize(facts, { kind: 'absolute', bytes: entry.toBytes }, { finishing: true, preallocate: entry.preallocate });
  await run(ctx, crypt, plan, entry, silentReporter);
  return [`finished the interrupted resize of ${crypt.shown} from ${formatSize(entry.fromBytes)} to ${formatSize(entry.toBytes)}`];
}

export async function resizeCrypt(ctx: OpContext, crypt: OpenCrypt, req: SizeRequest | null, opts: { dryRun: boolean; preallocate?: boolean }): Promise<ResizeReport> {
  const finished = opts.dryRun ? [] : await finishResize(ctx, crypt);
  const journal = opts.dryRun ? await readCapacityJournal(crypt.config) : undefined;
  if (journal?.op === 'migrate') throw new CryptError(`a migration of ${crypt.shown} onto ${journal.device} is pending`, { hint: 'Run `lychd-crypt repair` (or `lychd-crypt migrate` again): it finishes it.' });
  const pending = journal;
  const facts = await readCapacityFacts(ctx.runner, crypt.config);
  // A dry run with a resize pending shows what the next real run does first: finishing it.
  const plan = pending && !req
    ? planResize(facts, { kind: 'absolute', bytes: pending.toBytes }, { finishing: true, preallocate: pending.preallocate })
    : planResize(facts, req, { preallocate: preallocateOf(crypt, facts), preallocateNow: opts.preallocate, floor: crypt.config.space?.minFree ?? null });
  if (pending) plan.notes.unshift(`an interrupted resize to ${formatSize(pending.toBytes)} is pending: the next run finishes it first`);
  if (opts.dryRun) {
    const probes = await probeCapacitySteps(plan.steps, { runner: ctx.runner, crypt });
    return { plan, finished, dryRun: true, steps: plan.steps.map((s, i) => ({ kind: s.kind, actions: describeCapacityStep(s), probe: probes[i] })) };
  }
  if (plan.direction === 'none') return { plan, finished, dryRun: false, steps: [] };
  const entry: CapacityEntry = {
    op: 'resize',
    id: randomHex(6),
    startedAt: new Date().toISOString(),
    fromBytes: plan.fromBytes,
    toBytes: plan.toBytes,
    direction: plan.direction,
    preallocate: plan.steps.some((s) => s.kind === 'resize-image' && s.preallocate),
  };
  const r = await run(ctx, crypt, plan, entry, reporterOf(ctx));
  return {
    plan,
    finished,
    dryRun: false,
    steps: plan.steps.map((s, i) => ({ kind: s.kind, actions: describeCapacityStep(s), status: r.steps[i]?.status, detail: r.steps[i]?.detail })),
  };
}
