// A code frame under an error in a file the user wrote: the line, and a caret under the column.
//    3 |   path: /a
//      |         ^

/** Two lines (the source line and the caret), indented; empty when the line does not exist. */
export function codeFrame(text: string, line: number, col: number): string {
  const src = text.split(/\r?\n/)[line - 1];
  if (src === undefined) return '';
  const num = String(line);
  const gutter = ' '.repeat(num.length);
  // Keep tabs in the pad so the caret lands under the same column on any tab width.
  const pad = src.slice(0, Math.max(0, col - 1)).replace(/[^\t]/g, ' ');
  return `  ${num} | ${src.trimEnd()}\n  ${gutter} | ${pad}^`;
}
