// Rolls a failed (or interrupted) guarded run back to its "before" snapshot through the ordinary rollback
// (the failed state kept as the pre-rollback snapshot), then makes sure PostgreSQL runs again when it ran
// before the change (a change that crashed the server leaves it down otherwise). The rollback's journal
// entry carries the run's intent (op run-rollback), so a crash anywhere in it still ends at the snapshot.
import type { OpenCrypt } from '../../base/crypt/open.js';
import { pgdataPath } from '../../base/crypt/paths.js';
import { readPostmaster } from '../../base/pg/postmaster.js';
import { planRollback } from '../rollback/run.js';
import type { Operations } from '../operations.js';
import { serviceOwner, startDatabase } from '../service/control.js';
import { waitForPrimary } from '../service/ready.js';
import { showing, type OpContext } from '../../base/context.js';
import type { RunIntent } from '../../model/journal.js';

export interface RunRollback {
  preRollback: string;
  /** PostgreSQL runs after the rollback (false: it did not run before the change either, or no PostgreSQL). */
  databaseUp: boolean;
}

export async function rollBackRun(crypt: OpenCrypt, ctx: OpContext, intent: RunIntent, ops: Pick<Operations, 'rollback'>): Promise<RunRollback> {
  const plan = { ...(await planRollback(crypt, intent.snapshot)), intent };
  const r = await ops.rollback(plan);
  const pg = crypt.config.postgres;
  if (!pg || !intent.dbWasRunning) return { preRollback: r.preRollback, databaseUp: r.databaseRestarted };
  const pgdata = pgdataPath(crypt.paths.root, pg.dir);
  if (!(await readPostmaster(pgdata)).running) {
    await showing(ctx, 'starting PostgreSQL', () => startDatabase(ctx.runner, pg, pgdata, serviceOwner(crypt)));
    await showing(ctx, 'waiting for PostgreSQL to accept connections', () => waitForPrimary(pg, ctx.env));
  }
  return { preRollback: r.preRollback, databaseUp: true };
}
