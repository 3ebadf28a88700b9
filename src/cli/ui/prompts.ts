// The one place that talks to @clack/prompts: thin wrappers that turn a cancel (Ctrl-C, Escape) into
// CancelledError, so every caller has a single path for "the user stopped; nothing was changed". Prompts
// write to the terminal themselves, past the output sink (src/cli/program.ts): every text given to them is escaped
// here (src/base/output/text.ts), as it may hold names from the disk (a device's label, a file in the crypt).
import * as p from '@clack/prompts';
import type { Readable, Writable } from 'node:stream';
import { CancelledError } from '../../base/errors.js';
import { escapeControls, escapeValue } from '../../base/output/text.js';
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
  return answered(await yesNo({ message: escapeControls(message), initialValue: opts.initialValue ?? true, input: opts.input, output: opts.output }));
}

export interface Choice<T> {
  value: T;
  label: string;
  hint?: string;
}

export async function askSelect<T extends string>(message: string, choices: Choice<T>[], opts: PromptIo & { initialValue?: T } = {}): Promise<T> {
  const options = choices.map((c) => ({ value: c.value, label: escapeValue(c.label), hint: c.hint === undefined ? undefined : escapeControls(c.hint) })) as p.Option<T>[];
  return answered(await p.select<T>({ message: escapeControls(message), options, initialValue: opts.initialValue, input: opts.input, output: opts.output }));
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
      message: escapeControls(message),
      placeholder: defaultValue === undefined ? undefined : escapeValue(defaultValue),
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
      message: escapeControls(`${device} holds ${what}. Formatting ERASES it. Type the device path to format it (Enter to decline)`),
      placeholder: escapeValue(device),
      input: opts.input,
      output: opts.output,
    }),
  );
  return (typed ?? '').trim() === device;
}

/** clack's messages (intro, notes, log lines, outro), escaped like every other output. */
export const say = {
  intro: (title: string, io: PromptIo = {}): void => p.intro(escapeControls(title), io),
  outro: (text: string, io: PromptIo = {}): void => p.outro(escapeControls(text), io),
  note: (text: string, title: string, io: PromptIo = {}): void => p.note(escapeControls(text), escapeControls(title), io),
  info: (text: string, io: PromptIo = {}): void => p.log.info(escapeControls(text), io),
  warn: (text: string, io: PromptIo = {}): void => p.log.warn(escapeControls(text), io),
  error: (text: string, io: PromptIo = {}): void => p.log.error(escapeControls(text), io),
  message: (text: string, io: PromptIo = {}): void => p.log.message(escapeControls(text), io),
};
