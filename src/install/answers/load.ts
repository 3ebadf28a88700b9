// Reads an answers file and reports every problem at its file:line:col with the key path, what was
// expected and what was found; nothing here touches the host beyond reading the file.
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { AnswersError, UsageError, type AnswersIssue } from '../../base/errors.js';
import { closest } from '../../base/output/did-you-mean.js';
import { answersSchema, type Answers } from './schema.js';
import { knownKeys } from './schema-keys.js';
import { explainYamlErrors } from './yaml-errors.js';
import { findKeyNode, formatPath, nearestNode, pathOfOffset } from './yaml-locate.js';
import { leadingZeroNumbers, octalHint, yamlTrapHint, type PathKey } from './yaml-traps.js';

export { formatPath };

const UNREADABLE: Record<string, string> = {
  ENOENT: 'does not exist',
  ENOTDIR: 'does not exist (a part of its path is not a directory)',
  EISDIR: 'is a directory, not a file',
  EACCES: 'cannot be read (permission denied)',
  EPERM: 'cannot be read (permission denied)',
};

export async function loadAnswersFile(file: string): Promise<Answers> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw new UsageError(`answers file ${file} ${UNREADABLE[code] ?? `cannot be read (${code || (e as Error).message})`}; nothing was changed`, {
      hint: 'Check the path given to --answers (or --defaults); `lychd-crypt init --dry-run --write-answers FILE` writes a complete one.',
    });
  }
  return parseAnswers(text, file);
}

/** Where each parsed answers object came from, so a check against the host can still point at its line. */
interface Source {
  file: string;
  text: string;
  doc: Document;
  lc: LineCounter;
}
const sources = new WeakMap<object, Source>();

/**
 * A UsageError that names a key of the answers (`postgres.osUser: no such user: x`, raised once the host
 * is known) as an AnswersError at that key's file:line:col, with its code frame and its own hint. Anything
 * else, or answers not read from a file, is returned unchanged.
 */
export function locateAnswerError(err: unknown, answers: Answers): unknown {
  const src = sources.get(answers);
  if (!src || !(err instanceof UsageError) || err instanceof AnswersError) return err;
  const m = /^([a-zA-Z]+(?:\.[a-zA-Z]+)+|[a-zA-Z]+): ([\s\S]*)$/.exec(err.message);
  if (!m) return err;
  const keys = m[1]!.split('.');
  if (!knownKeys(answersSchema, keys.slice(0, -1), src.doc.toJS()).includes(keys.at(-1)!)) return err;
  // The value when the file sets the key; else the deepest key of its path that the file has.
  let node = src.doc.getIn(keys, true) as Node | undefined;
  for (let n = keys.length - 1; !node && n > 0; n--) node = findKeyNode(src.doc, keys.slice(0, n - 1), keys[n - 1]!);
  const pos = src.lc.linePos(node?.range?.[0] ?? 0);
  const issue = { file: src.file, ...pos, path: m[1]!, message: m[2]! };
  return new AnswersError([issue], { source: src.text, hint: err.hint ?? 'Fix the answers file and run again; nothing was changed.' });
}

export function parseAnswers(text: string, file: string): Answers {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, version: '1.2' });
  const at = (offset: number) => lineCounter.linePos(offset);

  const syntax = explainYamlErrors(doc.errors, text, lineCounter).map((p) => ({
    ...p,
    issue: { file, ...at(p.offset), path: p.keyed ? pathOfOffset(doc, p.offset, p.duplicateKey) : '', message: p.message },
  }));
  if (syntax.length > 0) {
    // Report the schema's findings too (a second mistake elsewhere in the file), but not on the lines
    // a syntax error spans (or the line before it, its key): there they are its echo.
    const echo = (line: number): boolean => syntax.some((p) => line >= p.firstLine - 1 && line <= p.lastLine);
    let more: AnswersIssue[] = [];
    try {
      more = schemaIssues(doc, file, at).filter((i) => !echo(i.line));
    } catch {
      // A document too broken to convert: its syntax errors say enough.
    }
    throw new AnswersError(sortIssues([...syntax.map((p) => p.issue), ...more]), { source: text });
  }
  const data: unknown = doc.toJS();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new AnswersError([{ file, line: 1, col: 1, path: '', message: 'expected a mapping that starts with version: 1' }], { source: text });
  }
  const parsed = answersSchema.safeParse(data);
  const issues = schemaIssues(doc, file, at, parsed);
  if (parsed.success && issues.length === 0) {
    sources.set(parsed.data, { file, text, doc, lc: lineCounter });
    return parsed.data;
  }
  throw new AnswersError(sortIssues(issues), { source: text });
}

/** What the schema finds wrong, plus numbers YAML 1.1 and 1.2 read differently. */
function schemaIssues(
  doc: Document,
  file: string,
  at: (offset: number) => { line: number; col: number },
  parsed = answersSchema.safeParse(doc.toJS()),
): AnswersIssue[] {
  const data: unknown = doc.toJS();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return [];
  const issues = parsed.success ? [] : parsed.error.issues.flatMap((issue) => describeIssue(issue, doc, file, at, data));
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
  return issues;
}

function sortIssues(issues: AnswersIssue[]): AnswersIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
}

function describeIssue(
  issue: z.core.$ZodIssue,
  doc: Document,
  file: string,
  at: (offset: number) => { line: number; col: number },
  data: unknown,
): AnswersIssue[] {
  const path = issue.path.filter((k): k is PathKey => typeof k !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const keyNode = findKeyNode(doc, path, key);
      const pos = at(keyNode?.range?.[0] ?? nearestNode(doc, path)?.range?.[0] ?? 0);
      const near = closest(key, knownKeys(answersSchema, path, data), 1)[0];
      const message = near ? `unknown key "${key}": did you mean "${near}"?` : `unknown key "${key}": remove it or check its spelling`;
      return { file, ...pos, path: formatPath([...path, key]), message };
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
