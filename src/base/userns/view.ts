// This process's own view of ids: in the owner's user namespace (the helper, base/userns/helper.ts) a file of
// the container's postgres shows as ns uid 1000, not as its host uid 100999. Code that may run there speaks
// host ids and converts at the syscall (stat results in, chown arguments out); outside any user namespace
// both are the identity.
import { readFileSync } from 'node:fs';
import { parseMap, toInner, toOuter, type MapLine } from './ids.js';

interface View {
  uid: MapLine[];
  gid: MapLine[];
}

let view: View | undefined;

function load(): View {
  const read = (f: string): MapLine[] => {
    try {
      return parseMap(readFileSync(f, 'utf8'));
    } catch {
      return [{ inner: 0, outer: 0, count: 2 ** 32 - 1 }];
    }
  };
  return (view ??= { uid: read('/proc/self/uid_map'), gid: read('/proc/self/gid_map') });
}

/** The kernel's overflow id: what an id unmapped in this namespace shows as. */
const OVERFLOW = 65534;

/** The host uid of a uid this process sees (a stat result). */
export const hostUid = (id: number): number => toOuter(load().uid, id) ?? OVERFLOW;
export const hostGid = (id: number): number => toOuter(load().gid, id) ?? OVERFLOW;
function inner(map: MapLine[], id: number, what: string): number {
  const v = toInner(map, id);
  if (v === null) throw new Error(`${what} ${id} is not mapped in this user namespace`);
  return v;
}

/** The uid this process must use for a host uid (a chown argument); an unmapped one is an error, never a silent no-op. */
export const viewUid = (id: number): number => inner(load().uid, id, 'uid');
export const viewGid = (id: number): number => inner(load().gid, id, 'gid');
