// copy-data: the existing data copied into the crypt. The copy runs as the crypt's user (copyArgv): root
// reads and writes none of their files. Its target is opened through the checked filesystem and handed
// over as a descriptor, so the user cannot redirect it by renaming their directories, and the copy reaches
// nothing the user could not.
import path from 'node:path';
import { CommandError, CryptError } from '../../base/errors.js';
import { unlinkAt } from '../../base/sys/fd.js';
import { verifyOp, withinCryptFs } from './crypt-fs.js';
import { changed, seq, wouldChange, type StepModule, type StepOf } from './module.js';

/** The descriptor copy-data hands the copy: the target directory, opened by root through the verified filesystem. */
export const COPY_TARGET_FD = 3;
/** As the crypt's user (setpriv; nothing to switch for root): their data, read and written with their rights. */
export const copyArgv = (s: StepOf<'copy-data'>) => [
  ...(s.as.uid === 0 ? [] : ['setpriv', `--reuid=${s.as.uid}`, `--regid=${s.as.gid}`, '--init-groups', '--']),
  'cp',
  '-a',
  '--reflink=never',
  '--',
  ...s.entries.map((e) => `${s.from}/${e}`),
  `/proc/self/fd/${COPY_TARGET_FD}/`,
];

export const copyData: StepModule<StepOf<'copy-data'>> = {
  describe: (s) =>
    seq(
      `copy ${s.entries.length} existing entries from ${s.from} into ${s.to}, as ${s.as.user}`,
      verifyOp(s.fs),
      { op: `open ${s.to} through it and hand it to the copy as fd ${COPY_TARGET_FD}` },
      { run: copyArgv(s) },
      s.marker !== null && { op: `rm ${s.marker}` },
    ),
  probe: async (s) => wouldChange(`${s.entries.length} entries`),
  async apply(s, ctx) {
    await withinCryptFs(s.fs, s.to, async (to) => {
      try {
        await ctx.runner.run(copyArgv(s), { fds: [to.fd], cwd: '/' });
      } catch (e) {
        if (!(e instanceof CommandError)) throw e;
        throw new CryptError(`copying the existing data from ${s.from} as ${s.as.user} failed: ${e.message}`, {
          cause: e,
          hint: `The copy runs as ${s.as.user}: files ${s.as.user} cannot read stay behind. Give them to ${s.as.user} or move them away; the original in ${s.from} is untouched. Then run init again.`,
        });
      }
    });
    if (s.marker) await withinCryptFs(s.fs, path.dirname(s.marker), (dir) => unlinkAt(dir, path.basename(s.marker!)));
    return changed(`${s.entries.length} entries`);
  },
};
