// The YAML parser's errors in the words of someone editing an answers file, at the line where the mistake
// is: "Nested mappings are not allowed in compact mappings" at the value above is, to a person, a key
// indented one space too far on the next line.
import type { LineCounter, YAMLError } from 'yaml';

export interface SyntaxProblem {
  /** Where to point (0-based offset into the text). */
  offset: number;
  message: string;
  /** The lines the parser's error spans: other problems there are its consequences, not reported. */
  firstLine: number;
  lastLine: number;
  duplicateKey: boolean;
  /** false: about the line itself, no key path to name. */
  keyed: boolean;
}

const indentOf = (s: string): number => /^ */.exec(s)![0].length;
const spaces = (n: number): string => `${n} space${n === 1 ? '' : 's'}`;
/** `  key: value` → the key, for a line that is a mapping entry. */
const keyOf = (s: string): string | undefined => /^\s*([^\s#:'"{[\-][^:#]*?):(?:\s|$)/.exec(s)?.[1]?.trim();

export function explainYamlErrors(errors: readonly YAMLError[], text: string, lc: LineCounter): SyntaxProblem[] {
  const lines = text.split('\n');
  const lineStart = (line: number): number => lc.lineStarts[line - 1] ?? text.length;
  const at = (offset: number) => lc.linePos(offset);
  const seen = new Set<number>();
  const out: SyntaxProblem[] = [];
  // A multi-line problem explains the single-line one the parser reports at the same place.
  const ordered = [...errors].sort((a, b) => Number(b.code === 'MULTILINE_IMPLICIT_KEY') - Number(a.code === 'MULTILINE_IMPLICIT_KEY'));
  for (const e of ordered) {
    if (seen.has(e.pos[0])) continue;
    seen.add(e.pos[0]);
    const start = at(e.pos[0]);
    const end = at(Math.max(e.pos[0], e.pos[1] - 1));
    const span = { firstLine: start.line, lastLine: end.line, duplicateKey: e.code === 'DUPLICATE_KEY' };
    const add = (offset: number, message: string, keyed = true): void => void out.push({ offset, message, keyed, ...span });
    const lineText = lines[start.line - 1] ?? '';
    // A line that is no mapping entry at all: a word alone, or `key:value` without the space.
    if (!['DUPLICATE_KEY', 'MULTIPLE_DOCS', 'TAB_AS_INDENT'].includes(e.code) && !/^\s*(-|#|$)/.test(lineText)) {
      if (!lineText.includes(':')) {
        add(lineStart(start.line) + indentOf(lineText), `"${lineText.trim()}" is neither "key: value" nor a list item: add ": value", or remove the line`, false);
        continue;
      }
      const glued = /^(\s*)([A-Za-z_][\w-]*):(\S.*)$/.exec(lineText);
      if (glued && !lineText.includes(': ') && !/[{["']/.test(glued[3]!)) {
        add(lineStart(start.line) + glued[1]!.length + glued[2]!.length + 1, `a space must follow the colon: write "${glued[2]}: ${glued[3]!.trim()}"`, false);
        continue;
      }
    }
    switch (e.code) {
      case 'DUPLICATE_KEY':
        add(e.pos[0], 'duplicate key: each key may appear once');
        continue;
      case 'MULTIPLE_DOCS':
        add(e.pos[0], 'expected one YAML document: remove this "---" and what follows, or merge it into the first', false);
        continue;
      case 'TAB_AS_INDENT':
        add(e.pos[0], 'a tab indents this line: YAML indents with spaces only', false);
        continue;
      case 'MULTILINE_IMPLICIT_KEY':
      case 'BLOCK_AS_IMPLICIT_KEY': {
        // The value ran on into the next lines: the first of them that looks like a key is the culprit.
        for (let l = start.line + 1; l <= end.line; l++) {
          const key = keyOf(lines[l - 1] ?? '');
          if (key === undefined) continue;
          const owner = keyOf(lineText);
          const n = indentOf(lines[l - 1]!);
          const m = indentOf(lineText);
          const where = owner ? `"${owner}" on line ${start.line}` : `the line ${start.line}`;
          add(
            lineStart(l) + n,
            n > m
              ? `"${key}" is indented more than ${where} (${spaces(n)}, not ${m}): keys of one mapping must start in the same column`
              : `"${key}" continues the value of line ${start.line}: fix its indentation, or quote that value`,
          );
          break;
        }
        if (out.at(-1)?.firstLine === start.line) continue;
        const kv = /^(\s*)([^:]+):\s+(.*?)\s*$/.exec(lineText);
        add(
          e.pos[0],
          kv ? `a value that contains ": " must be quoted: write ${kv[2]!.trim()}: "${kv[3]!.replace(/"/g, '\\"')}"` : 'this text reads as a key: quote it, or fix the indentation',
        );
        continue;
      }
      case 'MISSING_CHAR': {
        const q = /quote/.test(e.message) ? text.lastIndexOf(/'/.test(e.message.split('\n')[0]!) ? "'" : '"', e.pos[0] - 1) : -1;
        if (q >= 0) {
          add(q, 'this quoted text is not closed: add the closing quote');
          continue;
        }
        break;
      }
      case 'BAD_INDENT': {
        const flow = /^Flow (map|sequence)/.exec(e.message);
        if (flow) {
          const [open, close] = flow[1] === 'map' ? ['{', '}'] : ['[', ']'];
          const opener = unclosed(text, e.pos[0], open!, close!);
          // All its brackets matched: an unclosed one of the other kind swallowed its end (reported already).
          if (opener === undefined && out.some((p) => Math.abs(p.firstLine - start.line) <= 1)) continue;
          add(opener ?? e.pos[0], `this ${open} is not closed: end it with ${close} on the same line (or indent its continuation lines)`);
          continue;
        }
        if (/same column/.test(e.message)) {
          const own = lines[start.line - 1] ?? '';
          const key = keyOf(own);
          let prev = start.line - 1;
          while (prev > 0 && (lines[prev - 1]!.trim() === '' || lines[prev - 1]!.trim().startsWith('#'))) prev--;
          const above = prev > 0 ? `the line above has ${indentOf(lines[prev - 1]!)}` : 'the mapping starts further right';
          add(
            lineStart(start.line) + indentOf(own),
            `${key ? `"${key}"` : 'this line'} does not line up with the keys of its mapping (${spaces(indentOf(own))}; ${above}): keys of one mapping must start in the same column`,
          );
          continue;
        }
        break;
      }
      default:
        break;
    }
    add(e.pos[0], `YAML syntax error: ${e.message.split('\n')[0]}`);
  }
  return out;
}

/** The offset of the `open` bracket before `offset` that no `close` matches (quotes are not tracked). */
function unclosed(text: string, offset: number, open: string, close: string): number | undefined {
  let depth = 0;
  for (let i = Math.min(offset, text.length) - 1; i >= 0; i--) {
    if (text[i] === close) depth++;
    else if (text[i] === open) {
      if (depth === 0) return i;
      depth--;
    }
  }
  return undefined;
}
