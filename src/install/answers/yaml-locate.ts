// Where a key path or an offset is in a parsed YAML document, for file:line:col error messages.
import { isMap, isPair, isScalar, type Document, type Node, type Pair } from 'yaml';
import type { PathKey } from './yaml-traps.js';

export function findKeyNode(doc: Document, path: PathKey[], key: string): Node | undefined {
  const parent = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (!isMap(parent)) return undefined;
  for (const item of parent.items) {
    if (isPair(item) && isScalar(item.key) && item.key.value === key) return item.key;
  }
  return undefined;
}

export function nearestNode(doc: Document, path: PathKey[]): Node | undefined {
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
export function pathOfOffset(doc: Document, offset: number, atKey = false): string {
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

