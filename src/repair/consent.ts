// Consent for destructive repair steps: --yes, or a confirmation at a terminal (default No); without
// either the repair is refused (exit 3) and nothing is changed. The prompt is the UI module's.
import type { CommandContext } from '../core/context.js';
import { RefusedError } from '../core/errors.js';
import { askConfirm } from '../ui/prompts.js';
import type { RepairPlan } from './plan.js';
import { describeStep, isDestructive } from './steps.js';

export async function ensureConsent(plan: RepairPlan, yes: boolean, ctx: CommandContext): Promise<void> {
  if (!plan.destructive || yes) return;
  const what = plan.steps.filter(isDestructive).map(describeStep);
  const refuse = (why: string) =>
    new RefusedError(`repair would ${what.length === 1 ? what[0] : `${what.length} destructive steps:\n  - ${what.join('\n  - ')}`}\n${why}; nothing was changed`, {
      hint: 'Review the plan with `lychd-crypt repair --dry-run`, then run `lychd-crypt repair --yes`.',
    });
  if (!ctx.interactive) throw refuse('and there is no terminal to ask and no --yes');
  // Ctrl-C / Escape: CancelledError (exit 130), as everywhere else; No (the default): refused, exit 3.
  const yesPlease = await askConfirm(`Repair will:\n${what.map((w) => `  - ${w}`).join('\n')}\nGo ahead?`, { initialValue: false });
  if (!yesPlease) throw refuse('and you declined');
}
