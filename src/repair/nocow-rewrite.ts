// Gives PGDATA and every file in it the C attribute. C only takes effect on empty files, so the files
// are rewritten: real copies (cp -a --reflink=never: a reflink would share the old copy-on-write extents)
// into a fresh +C directory inside active/, verified, made durable, then swapped with PGDATA in one
// renameat2(RENAME_EXCHANGE). The journal (op nocow-rewrite) lets recovery finish or undo it after a crash:
// until the swap the original is untouched; after it, only the old copy is left to remove.
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CryptError, RefusedError } from '../core/errors.js';
import { faultPoint } from '../core/fault.js';
import type { Runner } from '../core/runner.js';
import type { OpenCrypt } from '../crypt/open.js';
import { entriesWithoutNocow } from '../doctor/nocow-scan.js';
import { walkTree } from '../doctor/walk.js';
import { readPostmaster } from '../pg/postmaster.js';
import { clearJournal, writeJournal, type JournalEntry } from '../recover/journal.js';
import { exchangePaths } from '../sys/libc.js';
import { nocowStagingPath } from './nocow-paths.js';
import { compareTrees } from './verify-copy.js';

type NocowEntry = Extract<JournalEntry, { op: 'nocow-rewrite' }>;

export function newOperationId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

/** The database must not write to PGDATA while it is copied: refuse (exit 3) while a server runs on it. */
export async function assertStopped(pgdata: string): Promise<void> {
  const pm = await readPostmaster(pgdata);
  if (pm.running) {
    throw new RefusedError(`PostgreSQL is running on ${pgdata} (pid ${pm.pid}); its files cannot be rewritten while it writes them. Nothing was changed.`, {
      hint: 'Stop the database (e.g. pg_ctl stop -D PGDATA, or its service), run `lychd-crypt repair` again, then start it.',
    });
  }
}

export async function rewriteNocow(crypt: OpenCrypt, runner: Runner, pgdata: string): Promise<string> {
  await assertStopped(pgdata);
  const root = crypt.paths.root;
  const id = newOperationId();
  const staging = nocowStagingPath(crypt.paths.active, id);
  const entry: NocowEntry = {
    op: 'nocow-rewrite',
    id,
    startedAt: new Date().toISOString(),
    staging: path.relative(root, staging),
    pgdata: path.relative(root, pgdata),
    phase: 'copying',
  };
  await writeJournal(crypt.paths, entry);
  faultPoint('nocow-after-journal');

  // C is inherited by files created in a +C directory, so every copied file gets it while still empty.
  await mkdir(staging, { mode: 0o700 });
  await runner.run(['chattr', '+C', staging]);
  await runner.run(['cp', '-a', '--reflink=never', '--', `${pgdata}/.`, `${staging}/`]);
  faultPoint('nocow-after-copy');

  const diff = await compareTrees(pgdata, staging);
  const withoutC = diff ? [] : await entriesWithoutNocow(runner, await walkTree(staging));
  if (diff || withoutC.length) {
    await rm(staging, { recursive: true, force: true });
    await clearJournal(crypt.paths);
    throw new CryptError(
      diff ? `the copy of PGDATA is not exact (${diff}); it was removed and PGDATA is untouched` : `${withoutC.length} copied entries still lack C (${withoutC[0]!.rel}); the copy was removed and PGDATA is untouched`,
    );
  }
  // The copy must be on disk before it becomes PGDATA and the original goes away.
  await runner.run(['sync', '-f', staging]);
  await writeJournal(crypt.paths, { ...entry, phase: 'verified', newIno: (await stat(staging)).ino });
  faultPoint('nocow-after-verify');

  await exchangePaths(staging, pgdata);
  faultPoint('nocow-after-swap');
  await writeJournal(crypt.paths, { ...entry, phase: 'swapped' });
  await rm(staging, { recursive: true, force: true }); // now the old files
  faultPoint('nocow-after-remove');
  await clearJournal(crypt.paths);
  return `PGDATA rewritten with the C attribute (${(await walkTree(pgdata)).length} entries, verified byte for byte)`;
}
