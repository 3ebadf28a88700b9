// What every command receives: the operation context (runner, logger, environment, progress), the parsed
// global options and the command line. Only the CLI sees it: the layers below take an OpContext
// (base/context.ts), and opening a crypt a CryptRequest (cryptRequest below).
import type { OpContext } from '../../base/context.js';
import type { CryptRequest } from '../../base/crypt/select.js';

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

export interface CommandContext extends OpContext {
  globals: Globals;
  /** stdin and stdout are terminals and --json is off: prompts are allowed. */
  interactive: boolean;
  /** The command's name and the whole command line as given (to tell a user exactly what to run instead). */
  command: string;
  argv: string[];
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

/** What opening the crypt needs of this command line. */
export function cryptRequest(ctx: CommandContext): CryptRequest {
  return { crypt: ctx.globals.crypt, registry: ctx.globals.registry, user: ctx.globals.user, command: ctx.command, argv: ctx.argv };
}
