// Step 1 of the Ritual: decide the mode and check that a snapshot in it would be complete and consistent.
// Opens the Ritual's session when the server runs (the caller owns it from then on); on any failure the
// session is closed and nothing has been changed.
import { CryptError } from '../../base/errors.js';
import type { OpenCrypt } from '../../base/crypt/open.js';
import { pgdataPath } from '../../base/crypt/paths.js';
import { isSubvolume } from '../../base/btrfs/probe.js';
import type { SnapshotMode } from '../snapshots/meta.js';
import { readClusterHead, readControlFacts, type ControlFacts } from '../../base/pg/controldata.js';
import { onTree } from '../../base/userns/tree.js';
import { decideMode, modeWithoutDatabase, refuseWithOutsideWal } from './mode.js';
import { subvolumeShow } from '../../base/btrfs/subvolume.js';
import { genName } from '../../base/wal/placement.js';
import { genPath, linkedGen } from '../../base/wal/generation.js';
import { checkNoNested, pgdataFilesOp, type PreflightProblem } from './preflight-fs.js';
import { checkServer } from './preflight-server.js';
import { probeServer, unreachableError } from './server-state.js';
import type { RitualSession, ServerFacts } from './session.js';
import type { OpContext } from '../../base/context.js';

export interface Preflight {
  mode: SnapshotMode;
  /** Open while the server runs (bracket, checkpoint); the caller closes it. */
  session?: RitualSession;
  facts?: ServerFacts;
  /** Facts of the stopped cluster (cold). */
  cold?: ControlFacts;
  /** The live WAL is outside the crypt: active/'s own generation under postgres.walDir (docs/wal.md). */
  walGen?: string | null;
}

export function preflightError(problems: PreflightProblem[]): CryptError {
  const lines = problems.map((p) => `  - ${p.what}\n    fix: ${p.fix}`).join('\n');
  return new CryptError(`preflight failed, no snapshot was taken:\n${lines}`, {
    hint: 'Fix the problems above and run `lychd-crypt snapshot` again; nothing was changed.',
  });
}

export async function preflight(
  crypt: OpenCrypt,
  ctx: OpContext,
  requested: SnapshotMode | undefined,
  onNotice: (m: string) => void,
): Promise<Preflight> {
  const { paths, config } = crypt;
  const pg = config.postgres;
  if (!(await isSubvolume(paths.active))) {
    throw new CryptError(`${paths.active} is not a Btrfs subvolume, so it cannot be snapshotted. No snapshot was taken.`, {
      hint: 'Run `lychd-crypt doctor` to see how to fix the layout.',
    });
  }
  // The nested-subvolume scan (a btrfs subprocess) runs while the server is probed: neither waits for the other.
  const nested = checkNoNested(paths.active, ctx.runner);
  nested.catch(() => {}); // awaited below; a failure must not surface as an unhandled rejection meanwhile
  const problems: PreflightProblem[] = [];
  const done = (p: Preflight): Preflight => {
    if (problems.length) throw preflightError(problems);
    return p;
  };
  if (!pg) {
    problems.push(...(await nested));
    return done({ mode: modeWithoutDatabase(requested) });
  }
  refuseWithOutsideWal(requested, pg);
  if (requested === 'none') {
    problems.push(...(await nested));
    ctx.log.warn('--mode none: PostgreSQL is not quiesced; the snapshot is only crash-consistent');
    return done({ mode: 'none' });
  }

  const pgdata = pgdataPath(paths.root, pg.dir);
  const state = await probeServer(pg, pgdata, ctx.env, onNotice);
  try {
    problems.push(...(await nested));
  } catch (e) {
    if (state.kind === 'up') await state.session.close();
    throw e;
  }
  if (state.kind === 'unreachable') throw unreachableError(pg, state);
  const session = state.kind === 'up' ? state.session : undefined;
  try {
    const mode = decideMode(requested, state.kind, pg);
    const head = mode === 'cold' && requested === undefined ? await readClusterHead(pgdata) : null;
    if (head && !head.hasVersion && head.entries !== null) {
      // A fresh crypt whose PGDATA has no cluster yet (initdb not run): nothing to quiesce or identify.
      ctx.log.warn(`${pgdata} holds no PostgreSQL cluster yet (no PG_VERSION): taking a plain snapshot (mode none)`);
      return done({ mode: 'none' });
    }
    // With postgres.walDir, pg_wal is the link to active/'s own generation (a real pg_wal: today's snapshot).
    const uuid = pg.walDir ? (await subvolumeShow(ctx.runner, paths.active)).uuid : null;
    const walLink = pg.walDir && uuid ? genPath(pg.walDir, uuid) : null;
    const walGen = pg.walDir && uuid && (await linkedGen(paths.active, pg.dir, pg.walDir).catch(() => null)) === genName(uuid) ? genName(uuid) : null;
    problems.push(...(await onTree(pgdata, ctx.runner, pgdataFilesOp, paths.active, pgdata, walLink)));
    if (session) {
      const facts = await session.facts();
      problems.push(...(await checkServer(facts, pgdata, paths.active, mode)));
      return done({ mode, session, facts, walGen });
    }
    if (problems.length) throw preflightError(problems);
    const cold = await readControlFacts(ctx.runner, pg.bin, pgdata, { uid: pg.uid, gid: pg.gid }).catch((e: Error) => {
      throw new CryptError(`cannot read the stopped cluster's control data: ${e.message}. No snapshot was taken.`, {
        hint: 'Check that PGDATA holds a PostgreSQL cluster and postgres.bin points at its version.',
      });
    });
    return done({ mode, cold, walGen });
  } catch (e) {
    await session?.close();
    throw e;
  }
}
