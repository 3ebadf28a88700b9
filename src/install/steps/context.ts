// What a step gets when it runs: the one runner; repair's steps also the crypt as opened for the command
// and the recovery table.
import type { Runner } from '../../base/runner.js';
import type { OpenCrypt } from '../../base/crypt/open.js';

export interface StepContext {
  runner: Runner;
  /** The opened crypt; null or absent for the steps that run before it can be opened (the mount). */
  crypt?: OpenCrypt | null;
  /**
   * The recovery table (it knows operations of every layer, so the command hands it down): finishes or
   * undoes the journal's operation and says what it did. Only repair's recover-interrupted step uses it.
   */
  heal?: (crypt: OpenCrypt) => Promise<string[]>;
  /** A long step's progress (migrate's replace: "42% copied"), shown on the running line. */
  progress?: (text: string) => void;
}

/** The opened crypt, for the steps that act on it. */
export function needCrypt(ctx: StepContext): OpenCrypt {
  if (!ctx.crypt) throw new Error('the crypt is not open');
  return ctx.crypt;
}
