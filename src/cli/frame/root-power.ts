// The frame of the commands that keep root's own power on a rootless crypt too (replicate, restore: btrfs
// send and receive need CAP_SYS_ADMIN): a system crypt goes through the usual frame (lock, heal); a rootless
// crypt's lock is its owner's (a lock file root makes is handed to the owner), and its journal is the
// owner's to heal: a pending one makes root wait for the owner's next command (exit 4).
import { BusyError } from '../../base/errors.js';
import { exists } from '../../base/sys/fs.js';
import { withLock } from '../../base/crypt/lock.js';
import { withCrypt, type OpenCrypt } from '../../base/crypt/open.js';
import { mutateCrypt } from './mutate.js';
import { cryptRequest, type CommandContext } from './context.js';

export async function mutateWithRootPower<T>(ctx: CommandContext, fn: (crypt: OpenCrypt) => Promise<T>): Promise<T> {
  const rootless = await withCrypt(
    ctx,
    cryptRequest(ctx),
    async (crypt) => {
      if (crypt.config.profile !== 'rootless') return null;
      const c = crypt.config.crypt;
      const r = await withLock(crypt.paths.lock, { waitSeconds: ctx.globals.wait, operation: ctx.command, activity: ctx.activity, owner: { uid: c.uid, gid: c.gid } }, async () => {
        if (await exists(crypt.paths.journal)) {
          throw new BusyError(`an interrupted operation of ${c.user}'s is pending on the crypt "${c.name}"; nothing was changed`, {
            hint: `${c.user}'s next lychd-crypt command (or \`lychd-crypt repair\` as ${c.user}) finishes or undoes it; then run this again.`,
          });
        }
        return fn(crypt);
      });
      return { r };
    },
    { rootPower: true },
  );
  return rootless ? rootless.r : mutateCrypt(ctx, fn, { rootPower: true });
}
