// A destructive repair never runs on one racy scan: before the nocow rewrite stops the database and
// copies PGDATA, the finding is confirmed again under the lock, and once more with the database stopped
// (nothing changes the files then), so a WAL segment that came and went during doctor's walk costs nothing.
// Also the rewrite's other operations on PGDATA's trees, where their owner may (base/userns/tree.ts).
import { rm } from 'node:fs/promises';
import type { Runner } from '../base/runner.js';
import { entriesWithoutNocow } from './nocow-scan.js';
import { walkTree } from './walk.js';
import { nsOp } from '../base/userns/helper.js';
import { onTree } from '../base/userns/tree.js';

/** How many entries of PGDATA exist now and lack C (where PGDATA's owner may look: base/userns/tree.ts). */
export const nocowCountOp = nsOp('nocow-count', async (ctx, pgdata: string) => (await entriesWithoutNocow(ctx.runner, await walkTree(pgdata))).length);

/** Removes a tree of PGDATA's (the old files after the swap, a half copy), where its owner may. */
export const removeTreeOp = nsOp('remove-tree', async (_ctx, dir: string) => rm(dir, { recursive: true, force: true }));

/** How many entries a tree of PGDATA's has now. */
export const treeSizeOp = nsOp('tree-size', async (_ctx, dir: string) => (await walkTree(dir)).length);

export const countWithoutNocow = (runner: Runner, pgdata: string): Promise<number> => onTree(pgdata, runner, nocowCountOp, pgdata);

export const NOTHING_TO_REWRITE = 'nothing rewritten: checked again, every entry of PGDATA has the C attribute (the earlier finding was a file PostgreSQL removed or replaced meanwhile)';
