// The interactive installer around the plan: detect, ask (src/cli/ui/wizard.ts), check the answers by
// planning them (install/init.ts check: looping back on a refusal), preview and confirm, and the closing
// summary. The host is detected once for the questions; the check reuses those facts unless the answers
// look elsewhere (another crypt path, image or device), and init applies the plan the check made.
import { answersSchema, type AnswersInput } from '../../install/answers/schema.js';
import { CancelledError, RefusedError, UsageError } from '../../base/errors.js';
import type { HostFacts } from '../../install/detect/facts.js';
import { describeSignatures } from '../../install/detect/signatures.js';
import { answersFromConfig, checkWith, describeFacts, describePlan, detectFor, requireRoot, summarizePlan, type Checked, type DetectContext, type Plan, type Probe } from '../../install/init.js';
import { askSelect, askTypedConfirm, say, type Choice, type PromptIo } from './prompts.js';
import { askCryptPath, askInitAnswers } from './wizard.js';

export interface WizardOptions {
  detect: DetectContext;
  /** --crypt / LYCHD_CRYPT named the crypt path: do not ask for it. */
  cryptGiven: boolean;
  /** --dry-run: root is not needed to preview. */
  dryRun: boolean;
  io?: PromptIo;
}

/**
 * A registered crypt's questions start from its registry entry — every value it holds, not only those the
 * wizard asks about (retention, schedule, hooks, the connection, the registry itself) — so a re-run changes
 * only what the user changes. (--defaults pre-fills a new crypt's questions; a registered crypt has its own.)
 */
function fromRegistry(answers: AnswersInput, facts: HostFacts): AnswersInput {
  if (!facts.existingConfig) return answers;
  const registered = answersFromConfig(facts.existingConfig);
  return { ...registered, crypt: { ...registered.crypt, path: facts.cryptPath } };
}

/** Asks until the answers make a valid plan; returns them (validated by the answers schema) with that plan. */
export async function askAnswers(base: AnswersInput, opts: WizardOptions): Promise<Checked> {
  const io = opts.io ?? {};
  say.intro('lychd-crypt init', io);
  let answers: AnswersInput = base;
  const scan = { ...opts.detect, scanDevices: true, scanContainers: true };
  const first = answersSchema.parse(answers);
  let detected = { answers: first, facts: await detectFor(first, scan) };
  let facts = detected.facts;
  answers = fromRegistry(answers, facts);
  // Before any question: answering everything only to hear "needs root" would waste the user's time.
  if (!opts.dryRun) requireRoot(facts);
  say.note(describeFacts(facts).join('\n'), 'Detected', io);
  let ask = true;
  for (;;) {
    if (ask) {
      if (!opts.cryptGiven) {
        const cryptPath = await askCryptPath(facts, io);
        if (cryptPath !== facts.cryptPath) {
          const moved = { ...answers, crypt: { ...answers.crypt, path: cryptPath } };
          try {
            const parsed = answersSchema.parse(moved);
            detected = { answers: parsed, facts: await detectFor(parsed, scan) };
            facts = detected.facts;
          } catch (e) {
            if (!(e instanceof UsageError)) throw e;
            say.error(`${e.message}${e.hint ? `\n${e.hint}` : ''}`, io);
            continue;
          }
          answers = fromRegistry(moved, facts);
          say.info(`${facts.cryptPath}: on ${facts.hostFs.fstype} (${facts.hostFs.target})${facts.cryptHasData ? `, holds ${facts.cryptEntries.length} entries (they will be migrated into active/)` : ''}`, io);
        }
      }
      answers = await askInitAnswers(facts, answers, io);
    }
    ask = true;
    const parsed = answersSchema.parse(answers);
    let checked: HostFacts | undefined;
    try {
      checked = await detectFor(parsed, opts.detect, detected);
      return await checkWith(parsed, checked);
    } catch (e) {
      if (!(e instanceof UsageError || e instanceof RefusedError)) throw e;
      const sigs = checked?.device?.signatures ?? [];
      if (e instanceof RefusedError && parsed.partition && !parsed.partition.wipe && sigs.length) {
        // Method A on a device holding data: the one consent that counts is typing its path.
        if (await askTypedConfirm(parsed.partition.device, describeSignatures(sigs), io)) {
          answers = { ...answers, partition: { ...answers.partition!, wipe: true } };
          ask = false;
          continue;
        }
        say.warn(`${parsed.partition.device} is left as it is; choose another device or method`, io);
        continue;
      }
      say.error(`${e.message}${e.hint ? `\n${e.hint}` : ''}`, io);
      say.info('Change the answers (your previous ones are pre-filled), or press Ctrl-C to stop', io);
    }
  }
}

/** A plan formats a device that holds data (the user typed its path to allow it). */
export function erasesData(plan: Plan, facts: HostFacts): boolean {
  return plan.steps.some((s) => s.kind === 'mkfs-btrfs' && s.wipe) && (facts.device?.signatures.length ?? 0) > 0;
}

/**
 * Shows the plan in short (one screen) and asks: apply, show the full plan (every command and file), or
 * cancel. Default Apply, but Cancel when it erases data. Cancelling is a cancel (exit 130, nothing changed).
 */
export async function confirmPlan(plan: Plan, facts: HostFacts, io: PromptIo = {}, probes?: readonly Probe[]): Promise<void> {
  say.note(summarizePlan(plan, probes).join('\n'), 'Plan', io);
  const erases = erasesData(plan, facts);
  const message = erases
    ? `Apply this plan? It FORMATS ${plan.config.partition!.device}, erasing ${describeSignatures(facts.device!.signatures)}`
    : 'Apply this plan?';
  type Answer = 'apply' | 'full' | 'cancel';
  const choices: Choice<Answer>[] = [
    { value: 'apply', label: 'Apply', hint: probes ? `${probes.filter((p) => p.status !== 'satisfied').length} of ${plan.steps.length} steps change something` : `${plan.steps.length} steps` },
    { value: 'full', label: 'Show the full plan', hint: 'every command and file, then ask again' },
    { value: 'cancel', label: 'Cancel', hint: 'nothing is changed' },
  ];
  for (;;) {
    const answer = await askSelect(message, choices, { ...io, initialValue: erases ? 'cancel' : 'apply' });
    if (answer === 'apply') return;
    if (answer === 'cancel') throw new CancelledError();
    // Plain lines, not a box: the full plan is long, and a box around it breaks as the terminal scrolls.
    say.message(describePlan(plan), io);
  }
}

/** The closing summary: what was done, notes, next steps. */
export function showSummary(head: string, notes: string[], next: string[], io: PromptIo = {}): void {
  for (const n of notes) say.warn(n, io);
  if (next.length) say.note(next.join('\n'), 'Next steps', io);
  say.outro(head, io);
}
