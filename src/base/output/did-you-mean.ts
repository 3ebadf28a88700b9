// "Did you mean …?": the candidates nearest to a mistyped word (a key in an answers file, a snapshot
// name). Pure; the distance is the optimal string alignment one (a swap of two letters counts once).

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidates close enough to `word` to be what was meant, nearest first (ties keep their order):
 * at most a third of the word's letters wrong (at least one), case ignored.
 */
export function closest(word: string, candidates: readonly string[], max = 3): string[] {
  const w = word.toLowerCase();
  const limit = Math.max(1, Math.floor(w.length / 3));
  return candidates
    .map((c, i) => ({ c, i, d: editDistance(w, c.toLowerCase()) }))
    .filter((x) => x.d <= limit && x.c !== word)
    .sort((x, y) => x.d - y.d || x.i - y.i)
    .slice(0, max)
    .map((x) => x.c);
}

/** `"a"`, `"a" or "b"`, `"a", "b" or "c"`. */
export function orList(words: readonly string[], quote = (s: string) => `"${s}"`): string {
  const q = words.map(quote);
  return q.length <= 1 ? (q[0] ?? '') : `${q.slice(0, -1).join(', ')} or ${q.at(-1)}`;
}
