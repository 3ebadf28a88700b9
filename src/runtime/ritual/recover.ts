// Recovery of an interrupted `snapshot` (see src/cli/frame/recover.ts). A snapshot is complete exactly when
// its metadata exists; otherwise the half-made subvolume is deleted. There is nothing to do in PostgreSQL:
// the server aborted backup mode when the dead process's session ended.
import type { OpenCrypt } from '../../base/crypt/open.js';
import { exists } from '../../base/sys/fs.js';
import { clearJournal, type JournalEntry } from '../../base/crypt/journal.js';
import { isSubvolume } from '../../base/btrfs/probe.js';
import { subvolumeDelete } from '../../base/btrfs/subvolume.js';
import { metaPath, snapshotPath } from '../snapshots/meta.js';
import { isSnapshotName } from '../snapshots/names.js';
import type { OpContext } from '../../base/context.js';

export async function recoverSnapshot(
  entry: Extract<JournalEntry, { op: 'snapshot' }>,
  crypt: OpenCrypt,
  ctx: OpContext,
): Promise<string[]> {
  const actions: string[] = [];
  // A journal is ours, but a name that could escape snapshots/ is never acted on.
  if (isSnapshotName(entry.name)) {
    const dir = snapshotPath(crypt.paths, entry.name);
    if (await exists(metaPath(crypt.paths, entry.name))) {
      actions.push(`snapshot ${entry.name} had completed; cleared its journal entry`);
    } else if (await isSubvolume(dir)) {
      await subvolumeDelete(ctx.runner, dir);
      actions.push(`deleted the incomplete snapshot ${entry.name} (interrupted before its metadata was written)`);
    } else {
      actions.push(`interrupted snapshot ${entry.name} had not been created; cleared its journal entry`);
    }
  }
  await clearJournal(crypt.paths);
  return actions;
}
