// Gives PGDATA and every file in it the C attribute. C only takes effect on empty files, so the files
// are rewritten: real copies (cp -a --reflink=never: a reflink would share the old copy-on-write extents)
// into a fresh +C directory inside active/, verified, made durable, then swapped with PGDATA in one
// renameat2(RENAME_EXCHANGE). The journal (op nocow-rewrite) lets recovery finish or undo it after a crash:
// until the swap the original is untouched; after it, only the old copy is left to remove. Each step
// is committed (syncfs) before the journal records it, since the journal sits outside active/. A running
// database is stopped through postgres.service first and started again afterwards.
import { mkdir, stat } from 'node:fs/promises';
import { nsOp } from '../base/userns/helper.js';
import { onTree } from '../base/userns/tree.js';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CryptError } from '../base/errors.js';
import { faultPoint } from '../base/fault.js';
import type { OpenCrypt } from '../base/crypt/open.js';
import { entriesWithoutNocow } from './nocow-scan.js';
import { walkTree } from './walk.js';
import { clearJournal, writeJournal, type JournalEntry } from '../base/crypt/journal.js';
import { exchangePaths } from '../base/sys/libc.js';
import { startDatabase, stopDatabase, serviceOwner } from '../runtime/service/control.js';
import { recoverNocowRewrite, syncFilesystem } from './nocow-recover.js';
import { countWithoutNocow, NOTHING_TO_REWRITE, removeTreeOp, treeSizeOp } from './nocow-confirm.js';
import { nocowStagingPath } from './nocow-paths.js';
import { compareTrees } from './verify-copy.js';
import type { OpContext } from '../base/context.js';

type NocowEntry = Extract<JournalEntry, { op: 'nocow-rewrite' }>;

export function newOperationId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

/**
 * Copy, verify (content, metadata, C on every entry), make durable; throws with PGDATA untouched. Where
 * PGDATA's owner may (a container's PGDATA: in the owner's user namespace, where `cp -a` keeps the
 * subordinate owner and the modes).
 */
export const nocowCopyOp = nsOp('nocow-copy', (ctx, pgdata: string, staging: string) => buildCopy(ctx, pgdata, staging));

async function buildCopy(ctx: Pick<OpContext, 'runner'>, pgdata: string, staging: string): Promise<void> {
  // C is inherited by files created in a +C directory, so every copied file gets it while still empty.
  await mkdir(staging, { mode: 0o700 });
  await ctx.runner.run(['chattr', '+C', staging]);
  await ctx.runner.run(['cp', '-a', '--reflink=never', '--', `${pgdata}/.`, `${staging}/`]);
  faultPoint('nocow-after-copy');
  const diff = await compareTrees(pgdata, staging);
  if (diff) throw new CryptError(`the copy of PGDATA is not exact (${diff}); it was removed and PGDATA is untouched`);
  const withoutC = await entriesWithoutNocow(ctx.runner, await walkTree(staging));
  if (withoutC.length) throw new CryptError(`${withoutC.length} copied entries still lack C (${withoutC[0]!.rel}); the copy was removed and PGDATA is untouched`);
  // The copy must be on disk before it becomes PGDATA and the original goes away.
  await ctx.runner.run(['sync', '-f', staging]);
}

export async function rewriteNocow(crypt: OpenCrypt, ctx: Pick<OpContext, 'runner'>, pgdata: string): Promise<string> {
  const pg = crypt.config.postgres;
  // Confirm under the lock before stopping anything, and again once the server is stopped.
  if ((await countWithoutNocow(ctx.runner, pgdata)) === 0) return NOTHING_TO_REWRITE;
  const wasRunning = await stopDatabase(ctx.runner, pg, pgdata, serviceOwner(crypt));
  if (wasRunning && (await countWithoutNocow(ctx.runner, pgdata)) === 0) {
    if (pg) await startDatabase(ctx.runner, pg, pgdata, serviceOwner(crypt));
    return `${NOTHING_TO_REWRITE}; the database was stopped to confirm it and runs again`;
  }
  const root = crypt.paths.root;
  const id = newOperationId();
  const staging = nocowStagingPath(crypt.paths.active, id);
  let entry: NocowEntry = {
    op: 'nocow-rewrite',
    id,
    startedAt: new Date().toISOString(),
    staging: path.relative(root, staging),
    pgdata: path.relative(root, pgdata),
    phase: 'copying',
    wasRunning,
  };
  const record = async (next: Partial<NocowEntry>) => writeJournal(crypt.paths, (entry = { ...entry, ...next }));
  await record({});
  faultPoint('nocow-after-journal');
  try {
    await onTree(pgdata, ctx.runner, nocowCopyOp, pgdata, staging);
    await record({ phase: 'verified', newIno: (await stat(staging)).ino });
    faultPoint('nocow-after-verify');
    await exchangePaths(staging, pgdata);
    faultPoint('nocow-after-swap');
    // The journal lives in the top-level subvolume: its own fsync does not carry the exchange inside
    // active/ to disk. Commit the filesystem first, or after a power cut the journal could say
    // `swapped` for an exchange that never landed.
    await syncFilesystem(ctx.runner, crypt.paths.active);
    await record({ phase: 'swapped' });
    await onTree(staging, ctx.runner, removeTreeOp, staging); // now the old files
    faultPoint('nocow-after-remove');
    // Likewise the removal must be on disk before the journal that would clean it up goes away.
    await syncFilesystem(ctx.runner, crypt.paths.active);
    await clearJournal(crypt.paths);
  } catch (e) {
    // Undo (or, past the swap, finish) exactly as crash recovery would, which also restarts the database.
    await recoverNocowRewrite(entry, crypt, ctx).catch(() => {});
    throw e;
  }
  if (wasRunning && pg) await startDatabase(ctx.runner, pg, pgdata, serviceOwner(crypt));
  const entries = await onTree(pgdata, ctx.runner, treeSizeOp, pgdata);
  return `PGDATA rewritten with the C attribute (${entries} entries, verified byte for byte)${wasRunning ? '; the database was stopped for it and runs again' : ''}`;
}
