// The one --json shape (docs/json.md): every command and every failure, usage errors included, prints
// exactly one document on stdout:
//   { "version": 1, "command": "list", "ok": true, "exit": 0, "data": {…}, "error": null }
//   { "version": 1, "command": "delete", "ok": false, "exit": 2, "data": null, "error": { "code": "usage", … } }
// ok is exit == 0. A finding (doctor's problems, a failed verify) is data with ok false and its exit code;
// an error has data null. `version` changes only when a key changes meaning; keys are only ever added.
import { CryptError, exitCodeFor } from '../base/errors.js';
import { jsonText } from '../base/output/text.js';

export const ENVELOPE_VERSION = 1;

export interface EnvelopeError {
  /** Stable: usage | refused | busy | cancelled | failed, or the environment's kind (no-space, read-only, permission, io-error, server-recovering, server-crashed). */
  code: string;
  /** The error's class (UsageError, AnswersError, CommandError, …): finer than code, less stable. */
  class: string;
  exit: number;
  message: string;
  hint: string | null;
  /** AnswersError: every problem located (file, line, col, path, message). */
  issues?: unknown;
  /** CommandError: the failing command's argv and exit status. */
  argv?: unknown;
  status?: unknown;
}

export interface Envelope {
  version: typeof ENVELOPE_VERSION;
  command: string | null;
  ok: boolean;
  exit: number;
  data: unknown;
  error: EnvelopeError | null;
}

const CODE_BY_EXIT: Record<number, string> = { 1: 'failed', 2: 'usage', 3: 'refused', 4: 'busy', 130: 'cancelled' };

export function successEnvelope(command: string, data: unknown, exit: number): Envelope {
  return { version: ENVELOPE_VERSION, command: command || null, ok: exit === 0, exit, data: data ?? null, error: null };
}

export function failureEnvelope(command: string | null, err: unknown, exit = exitCodeFor(err), message?: string, hint?: string): Envelope {
  const e = err as CryptError & { kind?: unknown; issues?: unknown; argv?: unknown; status?: unknown };
  const kind = typeof e?.kind === 'string' ? e.kind : undefined;
  const error: EnvelopeError = {
    code: kind ?? CODE_BY_EXIT[exit] ?? 'failed',
    class: e instanceof Error ? e.name : 'Error',
    exit,
    message: message ?? (e instanceof Error ? e.message : String(err)),
    hint: hint ?? (e instanceof CryptError && e.hint ? e.hint : null),
  };
  if (e?.issues !== undefined) error.issues = e.issues;
  if (e?.argv !== undefined) error.argv = e.argv;
  if (e?.status !== undefined) error.status = e.status;
  return { version: ENVELOPE_VERSION, command, ok: false, exit, data: null, error };
}

/** commander's own usage errors (a missing argument, an unknown option): exit 2. */
export function usageFailure(command: string | null, message: string, hint: string): Envelope {
  return { version: ENVELOPE_VERSION, command, ok: false, exit: 2, data: null, error: { code: 'usage', class: 'UsageError', exit: 2, message, hint } };
}

/**
 * The document as printed: indented JSON in which every control character a string holds — C0 as
 * JSON.stringify does it, and DEL, C1 and the bidi controls too — is a \uNNNN escape, never a raw byte.
 */
export function envelopeText(e: Envelope): string {
  return jsonText(e, 2);
}
