// authorized-key (`init --receiver … --authorize KEY`): root's ~/.ssh/authorized_keys (the home from the
// passwd database, never $HOME) gets the forced-command line of the sending host's key, written atomically,
// 0600: a line with the same key data is replaced, every other line kept byte for byte. ~/.ssh is made 0700
// when missing; a link in its place is refused.
import { lstat, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { RefusedError } from '../../base/errors.js';
import { writeFileAtomic } from '../../base/sys/fs.js';
import { withKeyLine } from '../render/authorized-key.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

async function current(file: string): Promise<string> {
  const st = await lstat(file).catch(() => null);
  if (!st) return '';
  if (!st.isFile()) throw new RefusedError(`${file} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}: it is not followed; nothing was changed`, { hint: 'Make it a plain file of root\'s, then run init again.' });
  return readFile(file, 'utf8');
}

export const authorizedKey: StepModule<StepOf<'authorized-key'>> = {
  describe: (s) =>
    seq(
      `authorize the sending host's key in ${s.file} (forced command, restrict)`,
      { op: `mkdir ${path.dirname(s.file)} (0700) when missing` },
      { op: `replace the line holding this key's data in ${s.file}, or append it (0600, written atomically): ${s.line}` },
    ),
  async probe(s) {
    const text = await current(s.file).catch(() => null);
    if (text === null) return wouldChange('not a plain file: init will refuse');
    return withKeyLine(text, s.line, s.blob) === text ? satisfied('the line is there') : wouldChange();
  },
  async apply(s) {
    const dir = path.dirname(s.file);
    const st = await lstat(dir).catch(() => null);
    if (!st) await mkdir(dir, { mode: 0o700 });
    else if (!st.isDirectory()) throw new RefusedError(`${dir} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}: it is not followed; nothing was changed`);
    const text = await current(s.file);
    const next = withKeyLine(text, s.line, s.blob);
    if (next === text) return unchanged('the line is there');
    await writeFileAtomic(s.file, next, { mode: 0o600 });
    return changed();
  },
};
