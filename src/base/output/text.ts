// Control characters: refused in what users give us (answers, labels), escaped in everything we print.
// A name someone created in active/ may hold escape sequences, OSC titles or a right-to-left override;
// printed raw they would rewrite the administrator's terminal or disguise what a line says. Every byte the
// tool writes passes through one of two doors: toTerminal (text for people, at the output sink in
// src/cli/program.ts) or jsonText (--json, and the JSON files the tool writes).
import { randomHex } from '../ids.js';

/** The unsafe characters: C0, DEL, C1, the Unicode bidi controls and the line/paragraph separators. */
const UNSAFE_CLASS = '\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069';
/** In text, tab and newline stay (our own output is lines); in a value nothing is allowed. */
const UNSAFE_IN_TEXT = `[${UNSAFE_CLASS.replace('\\u0000-\\u001f', '\\u0000-\\u0008\\u000b-\\u001f')}]`;
const CONTROL = new RegExp(`[${UNSAFE_CLASS}]`);
const CONTROLS = new RegExp(CONTROL.source, 'g');

export function hasControlChars(s: string): boolean {
  return CONTROL.test(s);
}

const hex = (c: string): string => {
  const n = c.codePointAt(0)!;
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
};

/** Makes text safe for a terminal: every control character but newline and tab becomes \xNN / \uNNNN. */
export function escapeControls(s: string): string {
  return s.replace(new RegExp(UNSAFE_IN_TEXT, 'g'), hex);
}

/** Escapes everything, newline and tab too: for one value inside a line (a file name, a label). */
export function escapeValue(s: string): string {
  return s.replace(CONTROLS, hex);
}

// Commands never run through a shell: quoting is for what a person reads or pastes (a hint, the plan's
// `$ mkfs.btrfs …` lines). One safe set, one quoting, everywhere.
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One word for a POSIX shell: as it is when it holds only safe characters, else single-quoted. Control
 * characters show escaped (escapeValue): a word holding one was never pasteable, and must not act on the terminal. */
export function shellWord(word: string): string {
  return SHELL_SAFE.test(word) ? word : `'${escapeValue(word).replace(/'/g, `'\\''`)}'`;
}

/** An argv as one line a person can read and paste. */
export function shellLine(argv: readonly string[]): string {
  return argv.map(shellWord).join(' ');
}

/** A name read as bytes: valid UTF-8 as escapeValue shows it, anything else byte by byte (\xNN beyond ASCII). */
export function escapeBytes(b: Uint8Array): string {
  try {
    return escapeValue(new TextDecoder('utf-8', { fatal: true }).decode(b));
  } catch {
    return [...b].map((c) => (c < 0x80 ? escapeValue(String.fromCharCode(c)) : hex(String.fromCharCode(c)))).join('');
  }
}

// The tool's own terminal sequences (colour, the spinner's carriage return and line erase) travel through
// the text as a mark: ESC followed by a key drawn once per process, then the sequence. toTerminal turns
// marks back into the sequence and escapes every other control character, so data — a file name, a label,
// anything the crypt's owner wrote before this process started — can never forge one: it cannot know the key.
let markKey: string | undefined;
const key = (): string => (markKey ??= randomHex(8));
let sinkRe: RegExp | undefined;

/** One of our own sequences (`\r`, or a CSI without its ESC: `[31m`, `[2K`), marked for toTerminal. */
export function ownSequence(seq: '\r' | `[${string}`): string {
  return `\x1b${key()}${seq}`;
}

/** The output sink's transform: our marked sequences become real, every other control character is escaped. */
export function toTerminal(s: string): string {
  sinkRe ??= new RegExp(`\\x1b${key()}(\\r|\\[[0-9;]*[mK])|${UNSAFE_IN_TEXT}`, 'g');
  return s.replace(sinkRe, (c: string, own: string | undefined) => (own === undefined ? hex(c) : own === '\r' ? '\r' : `\x1b${own}`));
}

/** JSON.stringify leaves DEL, C1 and the bidi controls raw: these too as \uNNNN (still the same JSON value). */
const JSON_RAW = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** JSON text without a raw control character anywhere: lossless (JSON.parse gives the same value back). */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(JSON_RAW, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}
