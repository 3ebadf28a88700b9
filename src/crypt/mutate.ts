// The frame of every mutating command: open the crypt, take its lock, heal an interrupted operation, then act.
import type { CommandContext } from '../core/context.js';
import { recoverInterrupted } from '../recover/recover.js';
import { withLock } from './lock.js';
import { refreshIdentity, withCrypt, type OpenCrypt, type OpenOptions } from './open.js';

export async function mutateCrypt<T>(ctx: CommandContext, fn: (crypt: OpenCrypt) => Promise<T>, opts: OpenOptions = {}): Promise<T> {
  return withCrypt(
    ctx,
    (crypt) =>
      withLock(crypt.paths.lock, { waitSeconds: ctx.globals.wait }, async () => {
        const report = await recoverInterrupted(crypt, ctx);
        for (const line of report.actions) ctx.log.info(`recovered: ${line}`);
        try {
          return await fn(crypt);
        } finally {
          await refreshIdentity(crypt);
        }
      }),
    opts,
  );
}
