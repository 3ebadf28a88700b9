// Control characters: refused in what users give us (answers, labels), escaped in everything we print.
// A name someone created in active/ may hold escape sequences, OSC titles or a right-to-left override;
// printed raw they would rewrite the administrator's terminal or disguise what a line says.

/** C0 (but tab and newline, which our own output uses), DEL, C1, and the Unicode bidi controls. */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** In values nothing is allowed, not even tab or newline. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

export function hasControlChars(s: string): boolean {
  return CONTROL.test(s);
}

const hex = (c: string): string => {
  const n = c.codePointAt(0)!;
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
};

/** Makes text safe for a terminal: every control character but newline and tab becomes \xNN / \uNNNN. */
export function escapeControls(s: string): string {
  return s.replace(UNSAFE, hex);
}

/** Escapes everything, newline and tab too: for one value inside a line (a file name, a label). */
export function escapeValue(s: string): string {
  return s.replace(new RegExp(CONTROL.source, 'g'), hex);
}
