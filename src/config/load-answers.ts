// Reads an answers file and reports every problem at its file:line:col with the key path, what was
// expected and what was found; nothing here touches the host beyond reading the file.
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { AnswersError, UsageError, type AnswersIssue } from '../core/errors.js';
import { answersSchema, type Answers } from './answers.js';
import { findKeyNode, formatPath, nearestNode, pathOfOffset } from './yaml-locate.js';
import { leadingZeroNumbers, octalHint, yamlTrapHint, type PathKey } from './yaml-traps.js';

export { formatPath };

export async function loadAnswersFile(file: string): Promise<Answers> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read answers file ${file}: ${(e as Error).message}`);
  }
  return parseAnswers(text, file);
}

export function parseAnswers(text: string, file: string): Answers {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, version: '1.2' });
  const at = (offset: number) => lineCounter.linePos(offset);

  if (doc.errors.length > 0) {
    const seen = new Set<string>();
    const issues: AnswersIssue[] = [];
    for (const e of doc.errors) {
      const { line, col } = at(e.pos[0]);
      // The parser often reports one mistake twice at the same place; once is enough.
      if (seen.has(`${line}:${col}`)) continue;
      seen.add(`${line}:${col}`);
      const dup = e.code === 'DUPLICATE_KEY';
      if (e.code === 'MULTIPLE_DOCS') {
        issues.push({ file, line, col, path: '', message: 'expected one YAML document: remove this "---" and what follows, or merge it into the first' });
        continue;
      }
      const message = dup ? 'duplicate key: each key may appear once' : `YAML syntax error: ${firstLine(e.message)}`;
      issues.push({ file, line, col, path: pathOfOffset(doc, e.pos[0], dup), message });
    }
    throw new AnswersError(sortIssues(issues));
  }
  const data: unknown = doc.toJS();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new AnswersError([{ file, line: 1, col: 1, path: '', message: 'expected a mapping that starts with version: 1' }]);
  }
  const parsed = answersSchema.safeParse(data);
  const issues = parsed.success ? [] : parsed.error.issues.flatMap((issue) => describeIssue(issue, doc, file, at));
  // Numbers written with a leading zero mean different things in YAML 1.1 and 1.2: never guess.
  const reported = new Set(issues.map((i) => i.path));
  for (const { path, node } of leadingZeroNumbers(doc.contents, [])) {
    const p = formatPath(path);
    if (reported.has(p)) continue;
    const src = node.source!;
    issues.push({
      file,
      ...at(node.range?.[0] ?? 0),
      path: p,
      message: `ambiguous number ${src} (${octalHint(node)})`,
    });
  }
  if (parsed.success && issues.length === 0) return parsed.data;
  throw new AnswersError(sortIssues(issues));
}

function sortIssues(issues: AnswersIssue[]): AnswersIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
}

function describeIssue(
  issue: z.core.$ZodIssue,
  doc: Document,
  file: string,
  at: (offset: number) => { line: number; col: number },
): AnswersIssue[] {
  const path = issue.path.filter((k): k is PathKey => typeof k !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const keyNode = findKeyNode(doc, path, key);
      const pos = at(keyNode?.range?.[0] ?? nearestNode(doc, path)?.range?.[0] ?? 0);
      return { file, ...pos, path: formatPath([...path, key]), message: `unknown key "${key}": remove it or check its spelling` };
    });
  }
  const node = doc.getIn(path, true) as Node | undefined;
  const found = node === undefined ? undefined : (node as Node).toJSON();
  const expected = expectedText(issue);
  const got = node === undefined ? 'nothing (the key is missing)' : describeValue(found);
  const hint = yamlTrapHint(node, expected);
  const pos = at(node?.range?.[0] ?? nearestNode(doc, path)?.range?.[0] ?? 0);
  return [{ file, ...pos, path: formatPath(path), message: `${expected}, got ${got}${hint ? ` (${hint})` : ''}` }];
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

/** zod's own wording ("Invalid input: expected array, received string") in the words of a YAML user. */
function expectedText(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    const m = /^Invalid input: expected (\w+)/.exec(issue.message);
    if (m) return `expected ${TYPE_WORDS[m[1]!] ?? m[1]}`;
  }
  if (issue.code === 'invalid_value' && /^Invalid (input|option)/.test(issue.message)) {
    return `expected ${issue.values.length === 1 ? '' : 'one of '}${issue.values.map(String).join(', ')}`;
  }
  return issue.message.replace(/^Invalid (input|option): /, '');
}

function describeValue(v: unknown): string {
  if (v === null) return 'an empty value (null)';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'boolean') return String(v);
  return `${typeof v} ${String(v)}`;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
