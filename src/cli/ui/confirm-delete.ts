// Asks before delete removes snapshots for good (default No): shows which ones, when taken, and pins.
import type { SnapshotMeta } from '../../runtime/snapshots/meta.js';
import { askConfirm, say } from './prompts.js';

export async function confirmDelete(snapshots: { name: string; meta: SnapshotMeta | undefined }[]): Promise<boolean> {
  say.note(
    [
      'These snapshots will be deleted; this cannot be undone:',
      ...snapshots.map(({ name, meta }) => {
        const about = meta ? [new Date(meta.createdAt).toISOString(), meta.label, meta.pinned ? 'pinned' : null].filter(Boolean).join(', ') : 'incomplete';
        return `  ${name} (${about})`;
      }),
      'active/ and the other snapshots stay as they are.',
    ].join('\n'),
    'delete',
  );
  return askConfirm(`Delete ${snapshots.length === 1 ? snapshots[0]!.name : `these ${snapshots.length} snapshots`}?`, { initialValue: false });
}
