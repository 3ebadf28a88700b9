// The frame of every mutating command: open the crypt, take its lock, heal an interrupted operation, then act.
import type { CommandContext } from '../core/context.js';
import { recoverInterrupted } from '../recover/recover.js';
import { explainFailure } from './explain-failure.js';
import { withLock } from './lock.js';
import { refreshIdentity, withCrypt, type OpenCrypt, type OpenOptions } from './open.js';

export async function mutateCrypt<T>(ctx: CommandContext, fn: (crypt: OpenCrypt) => Promise<T>, opts: OpenOptions = {}): Promise<T> {
  return withCrypt(
    ctx,
    async (crypt) => {
      try {
        return await withLock(crypt.paths.lock, { waitSeconds: ctx.globals.wait }, async () => {
          const report = await recoverInterrupted(crypt, ctx);
          for (const line of report.actions) ctx.log.info(`recovered: ${line}`);
          try {
            return await fn(crypt);
          } finally {
            await refreshIdentity(crypt);
          }
        });
      } catch (e) {
        // A full or read-only crypt, a crashed server: say what happened to the database too.
        throw await explainFailure(crypt, ctx, e);
      }
    },
    opts,
  );
}
