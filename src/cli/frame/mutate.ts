// The frame of every mutating command: open the crypt, take its lock, heal an interrupted operation, then act.
import { readWritability } from '../../base/btrfs/fs-state.js';
import { hintFor, ReadOnlyFsError } from '../../base/expected-errors.js';
import { recoverInterrupted, type Heal, type RecoverOptions } from './recover.js';
import { explainFailure } from '../../base/crypt/explain-failure.js';
import { withLock } from '../../base/crypt/lock.js';
import { DeinitPendingError, refreshIdentity, withCrypt, type OpenCrypt, type OpenOptions } from '../../base/crypt/open.js';
import { CryptError } from '../../base/errors.js';
import { readCapacityJournal } from '../../runtime/capacity/journal.js';
import { cryptRequest, type CommandContext } from './context.js';
import type { JournalEntry } from '../../base/crypt/journal.js';

/**
 * The lock and journal live outside the crypt, so a read-only crypt is no longer found by failing to take
 * the lock: say it first, before anything tries to write (and fails halfway).
 */
async function refuseReadOnly(crypt: OpenCrypt, ctx: CommandContext): Promise<void> {
  if (!crypt.mounted) return;
  const w = await readWritability(ctx.runner, crypt.shown, '--target');
  if (w.kind === 'ro' || w.kind === 'forced-ro') {
    throw new ReadOnlyFsError(`the crypt at ${crypt.shown} is read-only${w.kind === 'forced-ro' ? ' (Btrfs forced it read-only after a write error)' : ''}; nothing was changed`, {
      hint: hintFor('read-only'),
    });
  }
}

/**
 * Root's capacity journal (runtime/capacity/journal.ts): a resize a crash interrupted is finished by the
 * next root-run command (the steps load only then). A rootless crypt's commands run as its owner, who
 * cannot: `resize` or `repair` as root finish it there.
 */
export async function finishCapacity(crypt: OpenCrypt, ctx: CommandContext): Promise<string[]> {
  if (process.getuid?.() !== 0 || !crypt.mounted || !(await readCapacityJournal(crypt.config))) return [];
  return (await import('../../runtime/capacity/resize.js')).finishResize(ctx, crypt);
}

/**
 * Opens the crypt, refuses a read-only one, takes the lock, heals (finishes or undoes an interrupted
 * operation, logged as `recovered: …`) and runs fn with the crypt, what the healing did and the entry it
 * healed (docs/journal.md).
 */
export async function mutateCrypt<T>(
  ctx: CommandContext,
  fn: (crypt: OpenCrypt, healed: string[], recovered?: JournalEntry) => Promise<T>,
  { heal = recoverInterrupted, ...opts }: OpenOptions & RecoverOptions & { heal?: Heal } = {},
): Promise<T> {
  try {
    return await mutating(ctx, fn, heal, opts);
  } catch (e) {
    // A crypt half removed by an interrupted deinit: root finishes the removal (as it was consented to), and
    // the command, whose crypt is gone now, says so; anyone else keeps the refusal naming root's command.
    if (!(e instanceof DeinitPendingError) || process.getuid?.() !== 0) throw e;
    const { finishPendingDeinit } = await import('./deinit.js');
    throw new CryptError(`${await finishPendingDeinit(ctx, e.entry)}; \`${ctx.command}\` did nothing`, {
      hint: 'To bring the crypt back, run `lychd-crypt init --answers FILE --yes` with the answers it was made with.',
    });
  }
}

function mutating<T>(ctx: CommandContext, fn: (crypt: OpenCrypt, healed: string[], recovered?: JournalEntry) => Promise<T>, heal: Heal, opts: OpenOptions & RecoverOptions): Promise<T> {
  return withCrypt(
    ctx, cryptRequest(ctx),
    async (crypt) => {
      try {
        await refuseReadOnly(crypt, ctx);
        return await withLock(crypt.paths.lock, { waitSeconds: ctx.globals.wait, operation: ctx.command, activity: ctx.activity }, async () => {
          const report = await heal(crypt, ctx, opts);
          report.actions.push(...(await finishCapacity(crypt, ctx)));
          for (const line of report.actions) ctx.log.info(`recovered: ${line}`);
          try {
            return await fn(crypt, report.actions, report.entry);
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
