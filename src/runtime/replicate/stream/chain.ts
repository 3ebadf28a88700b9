// file:// chains (pure): each stream file holds one snapshot, full or incremental against the one before
// it; a copy can be restored only if its own stream and every stream back to its full are there and whole.
// A broken link (a deleted or truncated stream, a wrong checksum, a missing parent) breaks everything after
// it: those copies are not "held", the next replication re-bases on a new full, and retention removes the
// broken ones once a newer full is intact.
import type { Sidecar } from './header.js';

export interface StreamEntry {
  name: string;
  sidecar: Sidecar;
  /** The stream file's size, or null when it is missing. */
  fileBytes: number | null;
  /** The stream's sha256 matched its sidecar (true/false), or was not checked (null). */
  checksumOk: boolean | null;
}

export interface ChainFacts {
  intact: { entry: StreamEntry; index: number; full: string }[];
  broken: { entry: StreamEntry; why: string }[];
}

/** Why this stream itself cannot be used, or null. */
function ownProblem(e: StreamEntry): string | null {
  const s = e.sidecar.stream;
  if (!s) return 'its sidecar does not describe a stream';
  if (e.fileBytes === null) return `its stream ${s.file} is missing`;
  if (e.fileBytes !== s.bytes) return `its stream ${s.file} is ${e.fileBytes} bytes, not ${s.bytes}`;
  if (e.checksumOk === false) return `its stream ${s.file} does not match its checksum`;
  return null;
}

export function analyseChains(entries: readonly StreamEntry[]): ChainFacts {
  const byOrigin = new Map(entries.map((e) => [e.sidecar.origin.uuid, e]));
  const memo = new Map<string, { ok: true; index: number; full: string } | { ok: false; why: string }>();
  const visit = (e: StreamEntry, seen: Set<string>): { ok: true; index: number; full: string } | { ok: false; why: string } => {
    const key = e.sidecar.origin.uuid;
    const known = memo.get(key);
    if (known) return known;
    let r: { ok: true; index: number; full: string } | { ok: false; why: string };
    const own = ownProblem(e);
    const parentUuid = e.sidecar.origin.parentUuid;
    if (own) r = { ok: false, why: own };
    else if (!parentUuid) r = { ok: true, index: 0, full: e.name };
    else {
      const parent = byOrigin.get(parentUuid);
      if (!parent) r = { ok: false, why: `the stream it follows (${parentUuid}) is missing` };
      else if (seen.has(parentUuid)) r = { ok: false, why: 'its chain loops' };
      else {
        const p = visit(parent, new Set([...seen, key]));
        r = p.ok ? { ok: true, index: p.index + 1, full: p.full } : { ok: false, why: `the chain is broken at ${parent.name}: ${p.why.replace(/^the chain is broken at [^:]*: /, '')}` };
      }
    }
    memo.set(key, r);
    return r;
  };
  const facts: ChainFacts = { intact: [], broken: [] };
  for (const e of entries) {
    const r = visit(e, new Set());
    if (r.ok) facts.intact.push({ entry: e, index: r.index, full: r.full });
    else facts.broken.push({ entry: e, why: r.why });
  }
  return facts;
}

/** Every copy a kept copy needs to be restored (its ancestors in the chain), by origin UUID. */
export function closeOverChains(kept: Iterable<string>, parentOf: (origin: string) => string | null): Set<string> {
  const out = new Set<string>();
  for (let todo = [...kept]; todo.length; ) {
    const o = todo.pop()!;
    if (out.has(o)) continue;
    out.add(o);
    const p = parentOf(o);
    if (p) todo.push(p);
  }
  return out;
}
