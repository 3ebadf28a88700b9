// Reaching the directory underneath a mount point: the mount record lives there, so it stays readable
// while the crypt is unmounted. A non-recursive bind mount of the parent filesystem shows it without
// unmounting the crypt.
import { mkdtemp, rmdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Runner } from '../../base/runner.js';
import { mountAt, mountHolding } from '../detect/findmnt.js';

export async function withUnderlying<T>(runner: Runner, dir: string, fn: (underlyingDir: string) => Promise<T>): Promise<T> {
  if (!(await mountAt(runner, dir))) return fn(dir);
  const parentFs = await mountHolding(runner, path.dirname(dir));
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'lychd-crypt-under-'));
  try {
    await runner.run(['mount', '--bind', parentFs.target, tmp]);
    try {
      return await fn(path.join(tmp, path.relative(parentFs.target, dir)));
    } finally {
      await runner.run(['umount', tmp]);
    }
  } finally {
    await rmdir(tmp).catch(() => {});
  }
}
