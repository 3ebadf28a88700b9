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
}

/** A command's result: one JSON document for --json, text for people. */
export interface CommandOutput {
  json: unknown;
  human: string;
  /** Exit code when the command succeeded but reports a finding (doctor: 1 = problems). */
  exitCode?: number;
}
