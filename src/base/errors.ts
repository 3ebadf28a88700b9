// Typed errors: each class carries the SPEC's exit code; the CLI entry maps them in one place.
import { codeFrame } from './code-frame.js';

/** cancelled: 128 + SIGINT, what a shell reports for Ctrl-C; only interactive prompts raise it (docs/interactive.md). */
export const ExitCode = { ok: 0, failed: 1, usage: 2, refused: 3, busy: 4, cancelled: 130 } as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorDetails {
  cause?: unknown;
  /** What the user can do about it, printed under the message. */
  hint?: string;
}

/** Base class: the operation failed (exit 1). Messages say what failed and whether anything was lost. */
export class CryptError extends Error {
  readonly hint?: string;
  get exitCode(): ExitCodeValue {
    return ExitCode.failed;
  }
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.hint = details.hint;
  }
}

/** Bad command line or answers file; nothing was changed (exit 2). */
export class UsageError extends CryptError {
  override get exitCode(): ExitCodeValue {
    return ExitCode.usage;
  }
}

/** One problem found in an answers file, located for the user. */
export interface AnswersIssue {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
}

/** `file:line:col: key.path: message`, and under it the line with a caret when the file's text is known. */
export function formatIssue(i: AnswersIssue, source?: string): string {
  const head = `${i.file}:${i.line}:${i.col}: ${i.path ? `${i.path}: ` : ''}${i.message}`;
  const frame = source === undefined ? '' : codeFrame(source, i.line, i.col);
  return frame ? `${head}\n${frame}` : head;
}

export class AnswersError extends UsageError {
  /** source: the file's text, for a code frame under each issue; hint: what to do (default: fix the file). */
  constructor(
    readonly issues: AnswersIssue[],
    details: { source?: string; hint?: string } = {},
  ) {
    super(issues.map((i) => formatIssue(i, details.source)).join('\n'), {
      hint: details.hint ?? 'Fix the answers file and run again; nothing was changed.',
    });
  }
}

/** Refused for safety; rerun with explicit consent (exit 3). */
export class RefusedError extends CryptError {
  override get exitCode(): ExitCodeValue {
    return ExitCode.refused;
  }
}

/** Another operation holds the crypt's lock (exit 4). */
export class BusyError extends CryptError {
  override get exitCode(): ExitCodeValue {
    return ExitCode.busy;
  }
}

/** CommandError's status for a program that never started (not found, a directory it cannot enter, …). */
export const NOT_RUN = -1;

/** An external command failed: keeps argv, exit status and stderr for the message and for --json. */
export class CommandError extends CryptError {
  constructor(
    readonly argv: readonly string[],
    readonly status: number | undefined,
    readonly stderr: string,
    details: ErrorDetails = {},
  ) {
    super(
      `${status === NOT_RUN ? 'could not run' : `command failed (${status === undefined ? 'killed' : `exit ${status}`})`}: ${argv.join(' ')}${stderr.trim() ? `\n${stderr.trim()}` : ''}`,
      details,
    );
  }
}

/** A plan step failed; wraps the cause with the step so the user knows how far apply got. */
export class StepError extends CryptError {
  constructor(
    readonly step: string,
    cause: unknown,
    hint?: string,
  ) {
    super(`step "${step}" failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause, hint });
  }
  override get exitCode(): ExitCodeValue {
    return this.cause instanceof CryptError ? this.cause.exitCode : ExitCode.failed;
  }
}

/** The user cancelled an interactive prompt (Ctrl-C / Escape) before anything was changed (exit 130). */
export class CancelledError extends CryptError {
  constructor() {
    super('cancelled, nothing was changed');
  }
  override get exitCode(): ExitCodeValue {
    return ExitCode.cancelled;
  }
}

export function exitCodeFor(err: unknown): ExitCodeValue {
  return err instanceof CryptError ? err.exitCode : ExitCode.failed;
}
