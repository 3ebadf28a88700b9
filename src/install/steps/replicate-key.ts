// replicate-key: the key root's replication uses for one ssh target, `<registry>/replicate/<crypt>/<target>.key`
// (0600, with its .pub), made by ssh-keygen when missing. A key that is there is kept as it is: the target
// has it authorized, and re-running init must not lock the sender out.
import { lstat } from 'node:fs/promises';
import { RefusedError } from '../../base/errors.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

const keygenArgv = (s: StepOf<'replicate-key'>) => ['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', s.comment, '-f', s.path];

async function present(p: string): Promise<boolean> {
  const st = await lstat(p).catch(() => null);
  if (st && !st.isFile()) throw new RefusedError(`${p} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}: it is not followed; nothing was changed`, { hint: 'Move it away, then run init again.' });
  return st !== null;
}

export const replicateKey: StepModule<StepOf<'replicate-key'>> = {
  describe: (s) => seq(`make the replication key ${s.path} (ed25519) unless it exists`, { run: keygenArgv(s) }),
  probe: async (s) => ((await present(s.path).catch(() => true)) ? satisfied('the key exists (kept)') : wouldChange()),
  async apply(s, ctx) {
    if (await present(s.path)) return unchanged('the key exists (kept)');
    await ctx.runner.run(keygenArgv(s));
    return changed();
  },
};
