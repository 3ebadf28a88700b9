// Files of the host's configuration a step rewrites (fstab, a mount unit) keep their previous version
// beside them as <file>.lychd-crypt.bak.
import { copyFile, stat } from 'node:fs/promises';
import { exists, writeFileAtomic } from '../../base/sys/fs.js';

export const BACKUP_SUFFIX = '.lychd-crypt.bak';

export async function keepBackup(file: string): Promise<void> {
  if (await exists(file)) await copyFile(file, `${file}${BACKUP_SUFFIX}`);
}

/** Writes fstab atomically (its mode and owner kept), after copying the previous file to <file>.lychd-crypt.bak. */
export async function replaceFstab(file: string, next: string): Promise<void> {
  const prev = await stat(file).catch(() => null);
  if (prev) await copyFile(file, `${file}${BACKUP_SUFFIX}`);
  await writeFileAtomic(file, next, { mode: prev ? prev.mode & 0o7777 : 0o644, owner: prev ? { uid: prev.uid, gid: prev.gid } : undefined });
}
