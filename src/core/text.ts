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

/** The only escape sequences kept with keepColour: the SGR colours src/ui/style.ts emits (no hiding, no cursor moves). */
const OUR_SGR = /^\x1b\[(?:0|1|2|22|31|32|33|36|39)m/;

/**
 * Makes text safe for a terminal: every control character but newline and tab becomes \xNN / \uNNNN.
 * keepColour: our own colour sequences stay (anything else, e.g. hidden text or a cursor move, is escaped).
 */
export function escapeControls(s: string, opts: { keepColour?: boolean } = {}): string {
  if (!opts.keepColour) return s.replace(UNSAFE, hex);
  return s.replace(UNSAFE, (c, at: number) => (c === '\x1b' && OUR_SGR.test(s.slice(at)) ? c : hex(c)));
}

/** Escapes everything, newline and tab too: for one value inside a line (a file name, a label). */
export function escapeValue(s: string): string {
  return s.replace(new RegExp(CONTROL.source, 'g'), hex);
}
