// The keys a (zod) schema accepts at a key path of an answers file: what "did you mean …?" picks from.
import type { z } from 'zod';

type AnyDef = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; in?: z.ZodType; options?: z.ZodType[]; element?: z.ZodType };
const defOf = (s: z.ZodType): AnyDef => (s as unknown as { _zod: { def: AnyDef } })._zod.def;

/** The schema without its wrappers (optional, default, a pipe's input…). */
function unwrap(s: z.ZodType): z.ZodType {
  for (let d = defOf(s); ; d = defOf(s)) {
    const inner = d.innerType ?? (d.type === 'pipe' ? d.in : undefined);
    if (!inner) return s;
    s = inner;
  }
}

/** The object schemas `s` may be for `data` (of a discriminated union, the option whose kind matches). */
function objects(s: z.ZodType, data: unknown): z.ZodType[] {
  const u = unwrap(s);
  const d = defOf(u);
  if (d.type === 'object') return [u];
  if (d.type !== 'union') return [];
  const all = (d.options ?? []).flatMap((o) => objects(o, data));
  const kind = data && typeof data === 'object' ? (data as Record<string, unknown>).kind : undefined;
  const matching = all.filter((o) => {
    const k = defOf(o).shape?.kind;
    return k && kind !== undefined && (k as z.ZodType).safeParse(kind).success;
  });
  return matching.length ? matching : all;
}

export function knownKeys(schema: z.ZodType, path: readonly (string | number)[], data: unknown): string[] {
  let candidates: z.ZodType[] = [schema];
  let here: unknown = data;
  for (const key of path) {
    const next: z.ZodType[] = [];
    for (const c of candidates) {
      const u = unwrap(c);
      if (typeof key === 'number' && defOf(u).type === 'array') next.push(defOf(u).element!);
      else for (const o of objects(u, here)) if (defOf(o).shape?.[key]) next.push(defOf(o).shape![key]!);
    }
    candidates = next;
    here = here && typeof here === 'object' ? (here as Record<string | number, unknown>)[key] : undefined;
  }
  return [...new Set(candidates.flatMap((c) => objects(c, here).flatMap((o) => Object.keys(defOf(o).shape ?? {}))))];
}
