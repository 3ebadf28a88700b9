// The one place that talks to @clack/prompts: thin wrappers that turn a cancel (Ctrl-C, Escape) into
// CancelledError, so every caller has a single path for "the user stopped; nothing was changed".
import * as p from '@clack/prompts';
import type { Readable, Writable } from 'node:stream';
import { CancelledError } from '../core/errors.js';
import { yesNo } from './yes-no.js';

/** Streams for the prompts (tests inject their own; default: the process's terminal). */
export interface PromptIo {
  input?: Readable;
  output?: Writable;
}

function answered<T>(value: T): Exclude<T, symbol> {
  if (p.isCancel(value)) throw new CancelledError();
  return value as Exclude<T, symbol>;
}

export async function askConfirm(message: string, opts: PromptIo & { initialValue?: boolean } = {}): Promise<boolean> {
  // Not p.confirm: it answers on `y`/`n` alone and lets the following Enter answer the next question.
  return answered(await yesNo({ message, initialValue: opts.initialValue ?? true, input: opts.input, output: opts.output }));
}

export interface Choice<T> {
  value: T;
  label: string;
  hint?: string;
}

export async function askSelect<T extends string>(message: string, choices: Choice<T>[], opts: PromptIo & { initialValue?: T } = {}): Promise<T> {
  const options = choices.map((c) => ({ value: c.value, label: c.label, hint: c.hint })) as p.Option<T>[];
  return answered(await p.select<T>({ message, options, initialValue: opts.initialValue, input: opts.input, output: opts.output }));
}

/**
 * A line of text; an empty answer takes `defaultValue` (shown as the placeholder), so a test or a
 * hurried user can press Enter to accept it, or type a replacement without deleting anything first.
 */
export async function askText(
  message: string,
  opts: PromptIo & { defaultValue?: string; validate?: (value: string) => string | undefined } = {},
): Promise<string> {
  const { defaultValue, validate } = opts;
  const value = answered(
    await p.text({
      message,
      placeholder: defaultValue,
      defaultValue,
      validate: validate ? (v) => validate(v === undefined || v === '' ? (defaultValue ?? '') : v) : undefined,
      input: opts.input,
      output: opts.output,
    }),
  );
  return value === '' && defaultValue !== undefined ? defaultValue : value;
}

/**
 * Consent to destroy what a device holds: the user must type its path. Anything else (or an empty
 * answer: the default) declines, so a stray Enter can never format a disk.
 */
export async function askTypedConfirm(device: string, what: string, opts: PromptIo = {}): Promise<boolean> {
  const typed = answered(
    await p.text({
      message: `${device} holds ${what}. Formatting ERASES it. Type the device path to format it (Enter to decline)`,
      placeholder: device,
      input: opts.input,
      output: opts.output,
    }),
  );
  return (typed ?? '').trim() === device;
}
