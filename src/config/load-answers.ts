// Reads an answers file and reports every problem at its file:line:col with the key path, what was
// expected and what was found; nothing here touches the host beyond reading the file.
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isMap, isPair, isScalar, isSeq, type Document, type Node, type Pair, type Scalar } from 'yaml';
import type { z } from 'zod';
import { AnswersError, UsageError, type AnswersIssue } from '../core/errors.js';
import { answersSchema, type Answers } from './answers.js';

type PathKey = string | number;

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

/** Every integer scalar written like 0755, with its key path. */
function* leadingZeroNumbers(node: unknown, path: PathKey[]): Generator<{ path: PathKey[]; node: Scalar }> {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (isScalar(pair.key)) yield* leadingZeroNumbers(pair.value, [...path, String(pair.key.value)]);
    }
  } else if (isSeq(node)) {
    for (const [i, item] of node.items.entries()) yield* leadingZeroNumbers(item, [...path, i]);
  } else if (isScalar(node) && typeof node.value === 'number' && /^[-+]?0\d+$/.test(node.source ?? '')) {
    yield { path, node };
  }
}

function octalHint(node: Scalar): string {
  const src = node.source!;
  const octal = /^[-+]?0[0-7]+$/.test(src) ? parseInt(src, 8) : undefined;
  return (
    `YAML 1.2 reads ${src} as the decimal number ${String(node.value)}` +
    (octal !== undefined ? `, YAML 1.1 as octal ${octal}` : '') +
    `; write ${String(node.value)} without the zero, or quote it ("${src}") if you meant text`
  );
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

/** YAML 1.2 (what we parse) differs from the 1.1 many people learned: hint at the classic traps. */
function yamlTrapHint(node: Node | undefined, expected: string): string | undefined {
  if (!node || !isScalar(node)) return undefined;
  const src = node.source ?? String(node.value);
  if (typeof node.value === 'string' && /^(yes|no|on|off|y|n)$/i.test(node.value) && /true or false/.test(expected)) {
    return `YAML 1.2 reads ${src} as the string "${node.value}"; write true or false`;
  }
  if (typeof node.value === 'number' && /^[-+]?0\d+$/.test(src)) return octalHint(node as Scalar);
  return undefined;
}

function describeValue(v: unknown): string {
  if (v === null) return 'an empty value (null)';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'boolean') return String(v);
  return `${typeof v} ${String(v)}`;
}

function findKeyNode(doc: Document, path: PathKey[], key: string): Node | undefined {
  const parent = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (!isMap(parent)) return undefined;
  for (const item of parent.items) {
    if (isPair(item) && isScalar(item.key) && item.key.value === key) return item.key;
  }
  return undefined;
}

function nearestNode(doc: Document, path: PathKey[]): Node | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (node && typeof node === 'object' && 'range' in node) return node as Node;
  }
  return undefined;
}

/**
 * The key path of the innermost mapping entry whose value contains `offset` (for YAML syntax errors);
 * with `atKey`, also the entry whose key is at `offset` (the second of two duplicate keys).
 */
function pathOfOffset(doc: Document, offset: number, atKey = false): string {
  const path: PathKey[] = [];
  let node: unknown = doc.contents;
  while (isMap(node)) {
    const keyAt = (p: Pair) => (p.key as Node | null)?.range?.[0];
    const own = atKey ? node.items.find((p) => keyAt(p) === offset) : undefined;
    if (own && isScalar(own.key)) {
      path.push(String(own.key.value));
      break;
    }
    const pair = node.items.find((p) => {
      const key = p.key as Node | null;
      const end = (p.value as Node | null)?.range?.[2] ?? key?.range?.[2] ?? -1;
      // A node's end is where the next line starts: a duplicate key there belongs to the next entry.
      return (key?.range?.[1] ?? Infinity) <= offset && (atKey ? offset < end : offset <= end);
    });
    if (!pair || !isScalar(pair.key)) break;
    path.push(String(pair.key.value));
    node = pair.value;
  }
  return formatPath(path);
}

export function formatPath(path: PathKey[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
