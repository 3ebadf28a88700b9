// Id arithmetic of user namespaces, pure: the owner's subordinate ranges (/etc/subuid, /etc/subgid), maps
// in the kernel's format (/proc/<pid>/uid_map: inner outer count), the owner's rootless namespace (its own
// id as 0, its subordinate ids as 1…, in file order: what newuidmap sets up for podman and for the tool's
// own namespace), and a container's ids on the host, from podman's IDMappings or by keep-id's rule.

export interface IdRange {
  start: number;
  count: number;
}

/** A user and what newuidmap lets it map: its own ids and its subordinate ranges. */
export interface OwnerIds {
  uid: number;
  gid: number;
  subuids: IdRange[];
  subgids: IdRange[];
}

/** One line of a map: ids inner…inner+count-1 inside are outer…outer+count-1 outside. */
export interface MapLine {
  inner: number;
  outer: number;
  count: number;
}

/** The ranges /etc/subuid or /etc/subgid gives a user (by name or by number), in file order. */
export function parseSubIds(text: string, name: string, id: number): IdRange[] {
  const out: IdRange[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length !== 3 || (f[0] !== name && f[0] !== String(id))) continue;
    const start = Number(f[1]);
    const count = Number(f[2]);
    if (Number.isSafeInteger(start) && Number.isSafeInteger(count) && start >= 0 && count > 0) out.push({ start, count });
  }
  return out;
}

/** /proc/<pid>/uid_map or gid_map. */
export function parseMap(text: string): MapLine[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter((f) => f.length === 3 && f.every((n) => Number.isSafeInteger(n)))
    .map(([inner, outer, count]) => ({ inner: inner!, outer: outer!, count: count! }));
}

/** podman's HostConfig.IDMappings lines, `container:namespace:count` (the namespace is the owner's rootless one). */
export function parsePodmanMap(lines: readonly string[]): MapLine[] {
  return lines.map((l) => l.split(':').map(Number)).filter((f) => f.length === 3 && f.every((n) => Number.isSafeInteger(n))).map(([inner, outer, count]) => ({ inner: inner!, outer: outer!, count: count! }));
}

/** The id outside for `id` inside, or null when the map does not hold it. */
export function toOuter(map: readonly MapLine[], id: number): number | null {
  const l = map.find((m) => id >= m.inner && id < m.inner + m.count);
  return l ? l.outer + (id - l.inner) : null;
}

/** The id inside for `id` outside, or null when the map does not hold it. */
export function toInner(map: readonly MapLine[], id: number): number | null {
  const l = map.find((m) => id >= m.outer && id < m.outer + m.count);
  return l ? l.inner + (id - l.outer) : null;
}

/** The owner's rootless namespace: the owner is 0 there, its subordinate ids follow from 1 in file order. */
export function rootlessMap(ownerId: number, ranges: readonly IdRange[]): MapLine[] {
  const map: MapLine[] = [{ inner: 0, outer: ownerId, count: 1 }];
  let next = 1;
  for (const r of ranges) {
    map.push({ inner: next, outer: r.start, count: r.count });
    next += r.count;
  }
  return map;
}

/**
 * What `--userns=keep-id` maps inside the container (container id → rootless-namespace id): the owner's
 * own id stays itself, ids below it move up by one (0 is the owner there), ids above it stay.
 */
export function keepIdMap(ownerId: number, subordinate: number): MapLine[] {
  return [
    { inner: 0, outer: 1, count: ownerId },
    { inner: ownerId, outer: 0, count: 1 },
    { inner: ownerId + 1, outer: ownerId + 1, count: Math.max(0, subordinate - ownerId) },
  ].filter((l) => l.count > 0);
}

/**
 * The host id of container id `id`: through the container's map (podman's IDMappings, or keep-id's when the
 * container is not there to ask) into the owner's rootless namespace, then onto the host. null: unmapped.
 */
export function containerToHost(id: number, containerMap: readonly MapLine[], ownerId: number, ranges: readonly IdRange[]): number | null {
  const ns = toOuter(containerMap, id);
  return ns === null ? null : toOuter(rootlessMap(ownerId, ranges), ns);
}

export const subordinateCount = (ranges: readonly IdRange[]): number => ranges.reduce((n, r) => n + r.count, 0);
