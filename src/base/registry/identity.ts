// The identity of a crypt on disk: which Btrfs filesystem, which directory on it, which active/ subvolume.
// Read through fds opened without following symbolic links, so what is measured is what is acted on.
import { stat } from 'node:fs/promises';
import { btrfsFsUuid, closeDir, openDir, subvolInfo, type Dir } from '../sys/fd.js';
import type { Identity } from './store.js';

export async function identityOf(root: Dir): Promise<Identity> {
  const active = await openDir('active', root);
  try {
    return { fsUuid: await btrfsFsUuid(root), rootIno: (await stat(root.anchor)).ino, activeUuid: (await subvolInfo(active)).uuid };
  } finally {
    await closeDir(active);
  }
}

export async function readIdentity(cryptPath: string): Promise<Identity> {
  const root = await openDir(cryptPath);
  try {
    return await identityOf(root);
  } finally {
    await closeDir(root);
  }
}
