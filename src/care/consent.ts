// Consent for the repair steps that need it (destructive ones, and moving back what a person moved): --yes,
// or a confirmation at a terminal (default No). Without it those steps are left out, listed in the report,
// and repair exits 3; every other step is applied all the same. The prompt is the UI module's, passed in by
// the command (null when no person can answer), so the repair domain never imports the UI.
import type { RepairStep } from '../model/steps.js';
import { needsConsent } from './plan.js';

export interface Consent {
  /** The steps to apply, in plan order. */
  apply: RepairStep[];
  /** Steps left out for want of consent, and why. */
  withheld: RepairStep[];
  why: 'no terminal and no --yes' | 'declined' | null;
}

export type Confirm = (message: string, opts: { initialValue: boolean }) => Promise<boolean>;

/** askConfirm: the prompt, or null when not interactive (no terminal, or --json); title: a step in words. */
export async function askConsent(steps: RepairStep[], yes: boolean, askConfirm: Confirm | null, title: (s: RepairStep) => string): Promise<Consent> {
  const asking = steps.filter(needsConsent);
  if (!asking.length || yes) return { apply: steps, withheld: [], why: null };
  const without = steps.filter((s) => !needsConsent(s));
  if (!askConfirm) return { apply: without, withheld: asking, why: 'no terminal and no --yes' };
  const what = asking.map(title);
  // Ctrl-C / Escape: CancelledError (exit 130), as everywhere else; No (the default): those steps are left out.
  const others = without.length ? `\n(the other ${without.length} step(s) are safe and are applied either way)` : '';
  const ok = await askConfirm(`Repair wants to:\n${what.map((w) => `  - ${w}`).join('\n')}${others}\nGo ahead with ${asking.length === 1 ? 'this step' : `these ${asking.length} steps`}?`, { initialValue: false });
  return ok ? { apply: steps, withheld: [], why: null } : { apply: without, withheld: asking, why: 'declined' };
}
