// Reads an answers file and reports every problem at its file:line:col with the key path, what was
// expected and what was found; nothing here touches the host beyond reading the file.
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isMap, isPair, isScalar, type Document, type Node } from 'yaml';
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
    throw new AnswersError(
      doc.errors.map((e) => {
        const { line, col } = at(e.pos[0]);
        const message = e.code === 'DUPLICATE_KEY' ? 'duplicate key: each key may appear once' : firstLine(e.message);
        return { file, line, col, path: pathOfOffset(doc, e.pos[0]), message };
      }),
    );
  }
  const data: unknown = doc.toJS();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new AnswersError([{ file, line: 1, col: 1, path: '', message: 'expected a mapping that starts with version: 1' }]);
  }
  const parsed = answersSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  throw new AnswersError(parsed.error.issues.flatMap((issue) => describeIssue(issue, doc, file, at)));
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
  const expected = issue.message.replace(/^Invalid (input|option): /, '').replace(/, received \w+$/, '');
  const got = node === undefined ? 'nothing (the key is missing)' : describeValue(found);
  const hint = yamlTrapHint(node, expected);
  const pos = at(node?.range?.[0] ?? nearestNode(doc, path)?.range?.[0] ?? 0);
  return [{ file, ...pos, path: formatPath(path), message: `${expected}, got ${got}${hint ? ` (${hint})` : ''}` }];
}

/** YAML 1.2 (what we parse) differs from the 1.1 many people learned: hint at the classic traps. */
function yamlTrapHint(node: Node | undefined, expected: string): string | undefined {
  if (!node || !isScalar(node)) return undefined;
  const src = node.source ?? String(node.value);
  if (typeof node.value === 'string' && /^(yes|no|on|off|y|n)$/i.test(node.value) && /boolean/.test(expected)) {
    return `YAML 1.2 reads ${src} as the string "${node.value}"; write true or false`;
  }
  if (typeof node.value === 'number' && /^[-+]?0\d+$/.test(src)) {
    return `YAML 1.2 reads ${src} as the decimal number ${node.value}; quote it ("${src}") if you meant text`;
  }
  return undefined;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
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

/** The key path of the innermost mapping entry containing `offset` (for YAML syntax errors). */
function pathOfOffset(doc: Document, offset: number): string {
  const path: PathKey[] = [];
  let node: unknown = doc.contents;
  for (;;) {
    if (!isMap(node)) break;
    const pair = node.items.find((p) => {
      const start = (p.key as Node | null)?.range?.[0] ?? Infinity;
      const end = (p.value as Node | null)?.range?.[2] ?? (p.key as Node | null)?.range?.[2] ?? -1;
      return start <= offset && offset <= end;
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
