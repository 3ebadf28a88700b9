// The names in use under snapshots/ (subvolumes and metadata alike), so a new name never collides. Only
// names of the grammar count: nothing else can collide with a name the tool makes.
import { readdir } from 'node:fs/promises';
import { isSnapshotName } from './names.js';

export async function takenNames(snapshotsDir: string): Promise<Set<string>> {
  const names = await readdir(snapshotsDir).catch(() => [] as string[]);
  return new Set(names.map((n) => n.replace(/\.json$/, '')).filter(isSnapshotName));
}
