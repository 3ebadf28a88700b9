// A local target's directory made when missing, with a message instead of a bare errno: the scheduled
// service runs with the file system read-only beyond the targets' parent directories (ProtectSystem=strict;
// mkdir -p then says ENOENT or EROFS), so a parent that does not exist yet must be made by hand.
import { mkdirSync } from 'node:fs';
import { CryptError } from '../../../base/errors.js';

export function makeTargetDir(dir: string, mode: number): void {
  try {
    mkdirSync(dir, { recursive: true, mode });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EROFS' && code !== 'EACCES') throw e;
    // mkdir -p reports ENOENT for a read-only file system too.
    const why = code === 'EACCES' ? 'permission denied' : 'the file system there is read-only, or a parent is missing';
    throw new CryptError(`could not make the target directory ${dir}: ${why} (${code}); nothing was sent`, {
      hint: `Make it by hand (mkdir -p ${dir}): the scheduled replication service may write only in the existing parent directory of each local target (docs/replicate.md, "Schedule").`,
    });
  }
}
