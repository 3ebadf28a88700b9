// What every operation receives: the command runner, a logger, the environment and progress (OpContext),
// and the progress types the CLI implements (cli/ui/activity.ts).
import type { Runner } from './runner.js';

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
}

/** Something that may take more than a second, shown while it runs (src/cli/ui/activity.ts). */
export interface Activity {
  /** A new text for the running line (e.g. who holds the lock now). */
  update(text: string): void;
  done(detail?: string): void;
  fail(detail?: string): void;
}
/**
 * line: when a plain (non-terminal) reporter writes its line — at the start of a wait, or with the outcome of a
 * step. updates 'lines': off a terminal each update() is a line of its own (a retry loop shows every attempt);
 * at a terminal it replaces the spinner's text either way.
 */
export type StartActivity = (title: string, opts?: { line?: 'start' | 'end'; updates?: 'lines' }) => Activity;

/** No progress shown (tests that build a context, library use). */
export const noActivity: StartActivity = () => ({ update: () => {}, done: () => {}, fail: () => {} });

/**
 * What an operation below the CLI gets: the one command runner, a logger, the environment, and a way to
 * show progress. The command line itself (its options, argv, whether a person answers prompts) stays in
 * the CLI's command context (cli/frame/context.ts), which is one of these.
 */
export interface OpContext {
  runner: Runner;
  log: Logger;
  env: NodeJS.ProcessEnv;
  /** Progress on stderr for slow things; absent: none shown. */
  activity?: StartActivity;
}

/** Runs fn while showing title (a spinner on a terminal, a line otherwise); the outcome ends the line. */
export async function showing<T>(ctx: Pick<OpContext, 'activity'>, title: string, fn: () => Promise<T>, done?: (r: T) => string): Promise<T> {
  const a = (ctx.activity ?? noActivity)(title);
  try {
    const r = await fn();
    a.done(done?.(r));
    return r;
  } catch (e) {
    a.fail(e instanceof Error ? e.message.split('\n')[0] : String(e));
    throw e;
  }
}
