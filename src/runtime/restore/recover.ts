// Recovery of an interrupted restore (one row of cli/frame/recover.ts): a snapshot that was being received
// into snapshots/ and has no metadata yet is removed; complete ones stay (a new run does not receive them
// again: matched by origin UUID). The rollback that follows a restore has its own journal and recovery.
import type { OpContext } from '../../base/context.js';
import type { OpenCrypt } from '../../base/crypt/open.js';
import { clearJournal, type JournalEntry } from '../../base/crypt/journal.js';
import { isSubvolume } from '../../base/btrfs/probe.js';
import { subvolumeDelete } from '../../base/btrfs/subvolume.js';
import { readMeta, snapshotPath } from '../snapshots/meta.js';

type RestoreEntry = Extract<JournalEntry, { op: 'restore' }>;

export async function recoverRestore(entry: RestoreEntry, crypt: OpenCrypt, ctx: OpContext): Promise<string[]> {
  const { paths } = crypt;
  const removed: string[] = [];
  for (const name of entry.names.filter((n) => !entry.received.includes(n))) {
    const p = snapshotPath(paths, name);
    if (!(await isSubvolume(p))) continue;
    if (await readMeta(paths, name).catch(() => undefined)) continue; // received and described: complete
    await subvolumeDelete(ctx.runner, p);
    removed.push(name);
  }
  await clearJournal(paths);
  return [
    `undid the interrupted restore from ${entry.from}: ${removed.length ? `removed the half-received ${removed.join(', ')}` : 'nothing half-received was left'}${entry.received.length ? `; kept ${entry.received.join(', ')} (complete)` : ''}; active/ is unchanged. Run \`lychd-crypt restore --from ${entry.from}\` again`,
  ];
}
