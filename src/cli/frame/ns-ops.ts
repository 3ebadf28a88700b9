// Every operation the helper in the owner's user namespace may run (base/userns/helper.ts): the helper serves
// exactly this table, so a request can name nothing else. One row per nsOp; test/unit/userns.test.ts checks
// that every nsOp defined in src/ is here.
import type { NsOp } from '../../base/userns/helper.js';
import { postmasterFileOp } from '../../base/pg/postmaster.js';
import { nestedWalkOp } from '../../base/btrfs/probe.js';
import { clusterHeadOp } from '../../base/pg/controldata.js';
import { pgdataFilesOp } from '../../runtime/ritual/preflight-fs.js';
import { prepareStagingOp } from '../../runtime/rollback/staging.js';
import { cleanCloneOp, cloneVersionOp } from '../../runtime/verify/clone-files.js';
import { walSegmentOp } from '../../runtime/space/probe.js';
import { pgdataFactsOp } from '../../care/check-pgdata.js';
import { walFactsOp } from '../../care/check-snapshotable.js';
import { nocowCountOp, removeTreeOp, treeSizeOp } from '../../care/nocow-confirm.js';
import { nocowCopyOp } from '../../care/nocow-rewrite.js';

const ops = [
  postmasterFileOp,
  nestedWalkOp,
  clusterHeadOp,
  pgdataFilesOp,
  prepareStagingOp,
  cloneVersionOp,
  cleanCloneOp,
  walSegmentOp,
  pgdataFactsOp,
  walFactsOp,
  nocowCountOp,
  removeTreeOp,
  treeSizeOp,
  nocowCopyOp,
] as unknown as NsOp<never[], unknown>[];

export const NS_OPS: ReadonlyMap<string, NsOp<never[], unknown>> = new Map(ops.map((o) => [o.name, o]));
