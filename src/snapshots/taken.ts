// The names in use under snapshots/ (subvolumes and metadata alike), so a new name never collides.
import { readdir } from 'node:fs/promises';

export async function takenNames(snapshotsDir: string): Promise<Set<string>> {
  const names = await readdir(snapshotsDir).catch(() => [] as string[]);
  return new Set(names.map((n) => n.replace(/\.json$/, '')));
}
