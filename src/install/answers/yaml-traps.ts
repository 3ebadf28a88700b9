// YAML 1.2 (what answers files are parsed as) differs from the 1.1 many people learned: find the
// classic traps (0755 is decimal, `no` is a string) and say what the parser read instead.
import { isMap, isScalar, isSeq, type Node, type Scalar } from 'yaml';

export type PathKey = string | number;

/** Every integer scalar written like 0755, with its key path. */
export function* leadingZeroNumbers(node: unknown, path: PathKey[]): Generator<{ path: PathKey[]; node: Scalar }> {
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

export function octalHint(node: Scalar): string {
  const src = node.source!;
  const octal = /^[-+]?0[0-7]+$/.test(src) ? parseInt(src, 8) : undefined;
  return (
    `YAML 1.2 reads ${src} as the decimal number ${String(node.value)}` +
    (octal !== undefined ? `, YAML 1.1 as octal ${octal}` : '') +
    `; write ${String(node.value)} without the zero, or quote it ("${src}") if you meant text`
  );
}

/** YAML 1.2 (what we parse) differs from the 1.1 many people learned: hint at the classic traps. */
export function yamlTrapHint(node: Node | undefined, expected: string): string | undefined {
  if (!node || !isScalar(node)) return undefined;
  const src = node.source ?? String(node.value);
  if (typeof node.value === 'string' && /^(yes|no|on|off|y|n)$/i.test(node.value) && /true or false/.test(expected)) {
    return `YAML 1.2 reads ${src} as the string "${node.value}"; write true or false`;
  }
  if (typeof node.value === 'number' && /^[-+]?0\d+$/.test(src)) return octalHint(node as Scalar);
  return undefined;
}

