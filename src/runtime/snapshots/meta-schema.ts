// What snapshot metadata must look like before any command uses it (model/snapshot-meta.ts's type, checked):
// a file with a field missing or of the wrong type is treated as unreadable — `list` leaves it out with a
// warning, doctor reports it, repair sets it aside and rebuilds it — never half-used. Keys a later version
// adds are kept as they are (pin/label rewrite the file). Loaded only when metadata is read.
import { array, boolean, discriminatedUnion, enum as oneOf, int, literal, looseObject, nonnegative, nullable, number, optional, record, string, type ZodMiniType } from 'zod/mini';
import { firstProblem, isoTime, plainName } from '../../base/state-schema.js';
import type { SnapshotMeta } from '../../model/snapshot-meta.js';

const text = nullable(string());
const count = number().check(int(), nonnegative());

const metaSchema: ZodMiniType<SnapshotMeta> = looseObject({
  format: literal(1),
  name: plainName,
  label: text,
  createdAt: isoTime,
  mode: oneOf(['bracket', 'checkpoint', 'instant', 'cold', 'none']),
  origin: discriminatedUnion('kind', [
    looseObject({ kind: literal('snapshot') }),
    looseObject({ kind: literal('pre-rollback'), rollbackTo: string(), rollbackId: string() }),
  ]),
  postgres: nullable(
    looseObject({
      versionNum: nullable(count),
      systemIdentifier: text,
      startLsn: text,
      stopLsn: text,
      labelfile: text,
      major: optional(nullable(count)),
      clusterState: optional(text),
      wal: optional(
        nullable(
          looseObject({
            placement: literal('outside'),
            restorePoint: text,
            timeline: count,
            segments: looseObject({ first: string(), last: string(), count }),
            histories: array(string()),
            bytes: count,
            copyMs: number(),
            held: oneOf(['slot', 'none']),
            label: oneOf(['own', 'none']),
          }),
        ),
      ),
    }),
  ),
  btrfs: nullable(looseObject({ uuid: string(), generation: count })),
  timings: record(string(), number()),
  toolVersion: string(),
  space: optional(nullable(looseObject({ sizeBytes: count, usedBytes: count, freeBytes: count }))),
  pinned: optional(boolean()),
  rebuilt: optional(looseObject({ at: isoTime, checkpointLsn: text, timeline: nullable(count) })),
  restored: optional(looseObject({ from: string(), at: isoTime, originUuid: string(), by: string() })),
});

/** The metadata, or what is wrong with it (one line). */
export function parseMeta(data: unknown): { meta: SnapshotMeta } | { problem: string } {
  const r = metaSchema.safeParse(data);
  return r.success ? { meta: r.data } : { problem: firstProblem(r.error, data) };
}
