// What every command receives: parsed global options, the command runner and a logger. It lives in core/
// because domain modules take it too (they never import from commands/).
import type { Runner } from './runner.js';

export interface Globals {
  json: boolean;
  /** --crypt or LYCHD_CRYPT; undefined: the target user's default. */
  crypt?: string;
  /** --user; undefined: SUDO_USER, else the caller. */
  user?: string;
  /** --wait SECONDS for the crypt lock. */
  wait: number;
  /** --registry or LYCHD_CRYPT_REGISTRY; undefined: /etc/lychd-crypt. */
  registry?: string;
}

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
export type StartActivity = (title: string, opts?: { line?: 'start' | 'end' }) => Activity;

/** No progress shown (tests that build a context, library use). */
export const noActivity: StartActivity = () => ({ update: () => {}, done: () => {}, fail: () => {} });

export interface CommandContext {
  globals: Globals;
  runner: Runner;
  log: Logger;
  env: NodeJS.ProcessEnv;
  /** stdin and stdout are terminals and --json is off: prompts are allowed. */
  interactive: boolean;
  /** The command's name and the whole command line as given (to tell a user exactly what to run instead). */
  command: string;
  argv: string[];
  /** Progress on stderr for slow things; absent: none shown. */
  activity?: StartActivity;
  /** stdout is a terminal that takes colour (NO_COLOR, FORCE_COLOR respected), and its width in columns. */
  colour?: boolean;
  columns?: number;
}

/** A command's result: one JSON document for --json, text for people. */
export interface CommandOutput {
  json: unknown;
  human: string;
  /** Exit code when the command succeeded but reports a finding (doctor: 1 = problems). */
  exitCode?: number;
}

/** Runs fn while showing title (a spinner on a terminal, a line otherwise); the outcome ends the line. */
export async function showing<T>(ctx: Pick<CommandContext, 'activity'>, title: string, fn: () => Promise<T>, done?: (r: T) => string): Promise<T> {
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
