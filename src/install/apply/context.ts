// What a step handler gets: the one runner, and a way to report what it did.
import type { Runner } from '../../base/runner.js';

export interface ApplyContext {
  runner: Runner;
}

/** A handler's verdict: it acted, or it found the step already done. */
export type Outcome = { changed: true; detail?: string } | { changed: false; detail: string };

export const changed = (detail?: string): Outcome => ({ changed: true, detail });
export const unchanged = (detail: string): Outcome => ({ changed: false, detail });
