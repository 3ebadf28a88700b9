// The frame of every mutating command: take the crypt lock, heal an interrupted operation, then act.
import type { CommandContext } from '../commands/context.js';
import { recoverInterrupted } from '../recover/recover.js';
import { explainFailure } from './explain-failure.js';
import { withLock } from './lock.js';
import { openCrypt, type OpenCrypt } from './open.js';

export async function mutateCrypt<T>(ctx: CommandContext, fn: (crypt: OpenCrypt) => Promise<T>): Promise<T> {
  const crypt = await openCrypt(ctx);
  try {
    return await withLock(crypt.paths.lock, { waitSeconds: ctx.globals.wait }, async () => {
      const report = await recoverInterrupted(crypt, ctx);
      for (const line of report.actions) ctx.log.info(`recovered: ${line}`);
      return fn(crypt);
    });
  } catch (e) {
    // A full or read-only crypt, a crashed server: say what happened to the database too.
    throw await explainFailure(crypt, ctx, e);
  }
}
