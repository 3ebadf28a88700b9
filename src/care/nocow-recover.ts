// Recovery of an interrupted `nocow-rewrite` (called by recoverInterrupted). Before the swap PGDATA is
// the untouched original, so the half-made or unused copy is removed (undo: the database may have run
// on the original since, so an old copy must never replace it). After the swap the staging directory
// holds the old files and is removed (finish). Whether the swap happened is told by PGDATA's inode,
// never by the journal's phase alone.
// A database that repair had stopped is started again.
import { lstat } from 'node:fs/promises';
import { onTree } from '../base/userns/tree.js';
import { removeTreeOp } from './nocow-confirm.js';
import path from 'node:path';
import type { Runner } from '../base/runner.js';
import type { OpenCrypt } from '../base/crypt/open.js';
import { readPostmaster } from '../base/pg/postmaster.js';
import { clearJournal, type JournalEntry } from '../base/crypt/journal.js';
import { startDatabase, serviceOwner } from '../runtime/service/control.js';
import type { OpContext } from '../base/context.js';

export async function recoverNocowRewrite(
  entry: Extract<JournalEntry, { op: 'nocow-rewrite' }>,
  crypt: OpenCrypt,
  ctx: Pick<OpContext, 'runner'>,
): Promise<string[]> {
  const root = crypt.paths.root;
  const staging = path.resolve(root, entry.staging);
  const pgdataRel = entry.pgdata ?? path.join('active', crypt.config.postgres?.dir ?? 'postgres');
  const pgdata = path.resolve(root, pgdataRel);
  // Only ever remove our own staging name inside the crypt (never follow a hand-edited journal outside it).
  if (!staging.startsWith(`${crypt.paths.active}/`) || !path.basename(staging).startsWith('.lychd-nocow-')) {
    throw new Error(`journal names an unexpected staging path ${entry.staging}; left as it is`);
  }
  // The phase only says what was asked; PGDATA's inode says what reached the disk (a power cut can
  // lose an exchange the journal already calls done), so it decides whenever the journal has it.
  let swapped = entry.phase === 'swapped';
  if ((entry.phase === 'verified' || entry.phase === 'swapped') && entry.newIno !== undefined) {
    swapped = (await lstat(pgdata).catch(() => null))?.ino === entry.newIno;
  }
  await onTree(staging, ctx.runner, removeTreeOp, staging);
  // On disk before the journal goes, or a power cut could bring back the copy with no journal to name it.
  await syncFilesystem(ctx.runner, crypt.paths.active);
  await clearJournal(crypt.paths);
  const pg = crypt.config.postgres;
  const restarted = entry.wasRunning && pg && !(await readPostmaster(pgdata)).running;
  if (restarted) await startDatabase(ctx.runner, pg, pgdata, serviceOwner(crypt));
  return [
    swapped
      ? `nocow-rewrite ${entry.id}: finished (PGDATA ${pgdataRel} is the +C copy; the old files were removed)`
      : `nocow-rewrite ${entry.id}: undone (PGDATA ${pgdataRel} is the untouched original; the unfinished copy was removed)`,
    ...(restarted ? ['started the database again (repair had stopped it)'] : []),
  ];
}

/** Commits the filesystem holding `dir` (syncfs): renames and removals inside it are on disk after this. */
export async function syncFilesystem(runner: Runner, dir: string): Promise<void> {
  await runner.run(['sync', '-f', dir]);
}
