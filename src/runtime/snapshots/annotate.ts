// Pins and labels live in the snapshot's metadata file, rewritten atomically (readers see the old file or
// the new one). Callers hold the crypt lock, so two edits cannot lose each other's change. Each change is
// journaled (op annotate) like every mutation: recovery applies it again and removes what a crash in the
// middle of the rewrite left (its temporary file).
import { readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../../base/errors.js';
import { faultPoint } from '../../base/fault.js';
import { clearJournal, withJournal, type JournalEntry } from '../../base/crypt/journal.js';
import { randomUuid } from '../../base/ids.js';
import type { CryptPaths } from '../../base/crypt/paths.js';
import { readMeta, writeMeta, type SnapshotMeta } from './meta.js';
import { isSnapshotName } from './names.js';
import { NAMING_HINT } from './resolve.js';

type AnnotateEntry = Extract<JournalEntry, { op: 'annotate' }>;
type Change = Pick<AnnotateEntry, 'pinned' | 'label'>;

/** The metadata with the change applied (pure). */
function applyChange(m: SnapshotMeta, c: Change): SnapshotMeta {
  let next = m;
  if (c.pinned !== undefined) {
    const { pinned: _old, ...rest } = next;
    next = c.pinned ? { ...rest, pinned: true } : rest;
  }
  // The label only: the snapshot's name (its directory) never changes, so scripts holding it keep working.
  if (c.label !== undefined) next = { ...next, label: c.label };
  return next;
}

async function annotate(paths: CryptPaths, name: string, change: Change): Promise<SnapshotMeta> {
  const meta = isSnapshotName(name) ? await readMeta(paths, name).catch(() => undefined) : undefined;
  if (!meta || meta.name !== name) throw new UsageError(`no such snapshot: ${name}`, { hint: `Nothing was changed. ${NAMING_HINT}` });
  const entry: AnnotateEntry = { op: 'annotate', id: randomUuid(), startedAt: new Date().toISOString(), phase: 'started', name, ...change };
  return withJournal(paths, entry, async () => {
    faultPoint('annotate:journal');
    const next = applyChange(meta, change);
    await writeMeta(paths, next);
    faultPoint('annotate:written');
    return next;
  });
}

export function setPinned(paths: CryptPaths, name: string, pinned: boolean): Promise<SnapshotMeta> {
  return annotate(paths, name, { pinned });
}

export function setLabel(paths: CryptPaths, name: string, label: string | null): Promise<SnapshotMeta> {
  return annotate(paths, name, { label });
}

/** Recovery (src/cli/frame/recover.ts): the change again, on the metadata as it is; its temporary files go. */
export async function recoverAnnotate(entry: AnnotateEntry, crypt: { paths: CryptPaths }): Promise<string[]> {
  const { paths } = crypt;
  const out: string[] = [];
  if (isSnapshotName(entry.name)) {
    const meta = await readMeta(paths, entry.name).catch(() => undefined);
    if (meta) {
      await writeMeta(paths, applyChange(meta, entry));
      out.push(`finished the interrupted ${entry.pinned === undefined ? 'label' : entry.pinned ? 'pin' : 'unpin'} of ${entry.name}`);
    } else out.push(`the interrupted change of ${entry.name}'s metadata found no usable metadata; cleared its journal entry`);
    // writeFileAtomic's temporary file (`.<name>.json.<hex>.tmp`), left by a crash in the rewrite.
    const temp = new RegExp(`^\\.${entry.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.json\\.[0-9a-f]{8}\\.tmp$`);
    for (const n of await readdir(paths.snapshots)) if (temp.test(n)) await unlink(path.join(paths.snapshots, n)).catch(() => {});
  }
  await clearJournal(paths);
  return out;
}
