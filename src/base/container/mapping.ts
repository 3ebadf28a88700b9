// Which host ids a container's ids are (pure): the container's map into the owner's rootless namespace
// (podman's IDMappings when the container is there to ask, keep-id's rule — LychD's — when it is not),
// then the owner's namespace onto the host (its own id, then its subordinate ranges in order).
import { containerToHost, keepIdMap, rootlessMap, subordinateCount, toInner, type MapLine, type OwnerIds } from '../userns/ids.js';
import type { ContainerFacts } from './podman.js';

export interface ContainerMaps {
  uid: MapLine[];
  gid: MapLine[];
  /** Where the maps came from, for people: "podman" (the container's own) or "keep-id" (assumed). */
  from: 'podman' | 'keep-id';
}

/** The container's maps into the owner's namespace: its own, else keep-id's. */
export function containerMaps(c: ContainerFacts | null, owner: OwnerIds): ContainerMaps {
  if (c && c.uidMap.length && c.gidMap.length) return { uid: c.uidMap, gid: c.gidMap, from: 'podman' };
  return { uid: keepIdMap(owner.uid, subordinateCount(owner.subuids)), gid: keepIdMap(owner.gid, subordinateCount(owner.subgids)), from: 'keep-id' };
}

/** The host uid and gid of container ids; null when the owner's ranges do not hold them. */
export function hostIdsOf(ids: { uid: number; gid: number }, maps: ContainerMaps, owner: OwnerIds): { uid: number; gid: number } | null {
  const uid = containerToHost(ids.uid, maps.uid, owner.uid, owner.subuids);
  const gid = containerToHost(ids.gid, maps.gid, owner.gid, owner.subgids);
  return uid === null || gid === null ? null : { uid, gid };
}

/** The container ids of host ids (the inverse); null when the container does not map them. */
export function containerIdsOf(ids: { uid: number; gid: number }, maps: ContainerMaps, owner: OwnerIds): { uid: number; gid: number } | null {
  const nsUid = toInner(rootlessMap(owner.uid, owner.subuids), ids.uid);
  const nsGid = toInner(rootlessMap(owner.gid, owner.subgids), ids.gid);
  const uid = nsUid === null ? null : toInner(maps.uid, nsUid);
  const gid = nsGid === null ? null : toInner(maps.gid, nsGid);
  return uid === null || gid === null ? null : { uid, gid };
}

/** `--uidmap`/`--gidmap` arguments that give a new container exactly these maps. */
export function mapArgs(maps: ContainerMaps): string[] {
  return [...maps.uid.flatMap((m) => ['--uidmap', `${m.inner}:${m.outer}:${m.count}`]), ...maps.gid.flatMap((m) => ['--gidmap', `${m.inner}:${m.outer}:${m.count}`])];
}

/** "container uid 999 is host uid 100999 (keep-id)" — the mapping, said for people. */
export function describeMapping(containerUid: number, hostUid: number, maps: ContainerMaps): string {
  return `container uid ${containerUid} is host uid ${hostUid} (${maps.from === 'podman' ? "the container's own id mapping" : 'keep-id, as LychD runs it'})`;
}
