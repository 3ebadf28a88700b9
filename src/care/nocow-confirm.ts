// A destructive repair never runs on one racy scan: before the nocow rewrite stops the database and
// copies PGDATA, the finding is confirmed again under the lock, and once more with the database stopped
// (nothing changes the files then), so a WAL segment that came and went during doctor's walk costs nothing.
import type { Runner } from '../base/runner.js';
import { entriesWithoutNocow } from './nocow-scan.js';
import { walkTree } from './walk.js';

/** Entries of PGDATA that exist now and lack C. */
export async function countWithoutNocow(runner: Runner, pgdata: string): Promise<number> {
  return (await entriesWithoutNocow(runner, await walkTree(pgdata))).length;
}

export const NOTHING_TO_REWRITE = 'nothing rewritten: checked again, every entry of PGDATA has the C attribute (the earlier finding was a file PostgreSQL removed or replaced meanwhile)';
