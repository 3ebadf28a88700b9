// `hooks:` in the answers and the configuration: argv lists run before and after each snapshot and
// rollback (LychD's freeze: close admission and drain before the Ritual, open admission last).
import { z } from 'zod';
import type { HooksConfig } from '../../model/config.js';
import { DEFAULTS } from './defaults.js';

const word = z.string().min(1, { error: 'expected a non-empty word' });
const argv = z.array(word, { error: 'expected a command as a list of words, e.g. [systemctl, stop, x]' }).min(1, { error: 'a command needs at least one word' });
const list = z.array(argv, { error: 'expected a list of commands, each a list of words' });

export const hooksAnswers = z.strictObject({
  preSnapshot: list.optional(),
  postSnapshot: list.optional(),
  preRollback: list.optional(),
  postRollback: list.optional(),
  /** Each hook's time limit in seconds (default 60): then TERM, KILL, and it counts as failed. */
  timeout: z.number({ error: 'expected seconds' }).int({ error: 'expected whole seconds' }).min(1, { error: 'expected at least 1 second' }).optional(),
});

/** Answers -> config; absent or empty: null (no hooks). */
export function resolveHooks(a: z.output<typeof hooksAnswers> | undefined): { hooks: HooksConfig | null } {
  if (!a) return { hooks: null };
  return {
    hooks: {
      preSnapshot: a.preSnapshot ?? [],
      postSnapshot: a.postSnapshot ?? [],
      preRollback: a.preRollback ?? [],
      postRollback: a.postRollback ?? [],
      timeout: a.timeout ?? DEFAULTS['hooks.timeout'],
    },
  };
}

/** Config -> answers (for --write-answers). */
export function hooksAnswersOf(c: { hooks?: HooksConfig | null }): { hooks?: z.input<typeof hooksAnswers> } {
  return c.hooks ? { hooks: { ...c.hooks } } : {};
}
