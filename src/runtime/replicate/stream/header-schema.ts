// What a travelling header or a sidecar must look like (./header.ts's types, checked): read on the target
// from the sender, on the sender from the target, on a restore host from either. Loaded only when one is read.
import { enum as oneOf, int, literal, looseObject, nonnegative, nullable, number, optional, refine, string, strictObject, type ZodMiniType } from 'zod/mini';
import { firstProblem, isoTime } from '../../../base/state-schema.js';
import { isSnapshotName } from '../../snapshots/names.js';
import type { Sidecar } from './header.js';

const UUID = /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/;
const uuid = string().check(refine((s) => UUID.test(s), { error: 'expected a UUID' }));
const count = number().check(int(), nonnegative());
const snapshotName = string().check(refine(isSnapshotName, { error: 'expected a snapshot name' }));
const ids = strictObject({ user: string(), uid: count, gid: count });

const sidecarSchema: ZodMiniType<Sidecar> = looseObject({
  format: literal(1),
  // The crypt's own metadata schema checks the snapshot (parseMeta below); here only that it is an object with a name.
  snapshot: looseObject({ name: snapshotName }),
  origin: strictObject({ uuid, parentUuid: nullable(uuid), ctransid: count }),
  from: looseObject({ host: string(), crypt: string(), fsUuid: string(), profile: oneOf(['system', 'rootless']), toolVersion: string() }),
  ids: looseObject({ owner: ids, postgres: nullable(ids) }),
  sentAt: isoTime,
  estimatedBytes: nullable(count),
  received: optional(strictObject({ at: isoTime, uuid, ctransid: count, bytes: count })),
  stream: optional(strictObject({ file: string(), bytes: count, sha256: string().check(refine((s) => /^[0-9a-f]{64}$/.test(s))), rawBytes: count, compression: literal('zstd') })),
  chain: optional(strictObject({ full: snapshotName, index: count })),
}) as unknown as ZodMiniType<Sidecar>;

/** The header or sidecar, or what is wrong with it (one line). */
export async function parseSidecar(data: unknown): Promise<{ sidecar: Sidecar } | { problem: string }> {
  const r = sidecarSchema.safeParse(data);
  if (!r.success) return { problem: firstProblem(r.error, data) };
  const meta = (await import('../../snapshots/meta-schema.js')).parseMeta(r.data.snapshot);
  if ('problem' in meta) return { problem: `snapshot: ${meta.problem}` };
  return { sidecar: { ...r.data, snapshot: meta.meta } };
}

/** Parses a header line (JSON text, at most MAX_HEADER_BYTES); throws with the reason. */
export async function parseHeaderText(text: string): Promise<Sidecar> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`the header is not JSON (${(e as Error).message})`);
  }
  const r = await parseSidecar(data);
  if ('problem' in r) throw new Error(`the header is not one this version reads: ${r.problem}`);
  return r.sidecar;
}
