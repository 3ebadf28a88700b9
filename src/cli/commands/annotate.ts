// `pin NAME`, `unpin NAME`, `label NAME TEXT`: edit a snapshot's metadata under the lock.
import { UsageError } from '../../base/errors.js';
import { mutateCrypt } from '../frame/mutate.js';
import { setLabel, setPinned } from '../../runtime/snapshots/annotate.js';
import { validateLabel } from '../../runtime/snapshots/names.js';
import { resolveSnapshotArg } from '../../runtime/snapshots/lookup.js';
import type { CommandContext, CommandOutput } from '../frame/context.js';

function pinCommand(pinned: boolean) {
  return async (args: string[], _opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> => {
    const name = args[0];
    if (!name) throw new UsageError(`${pinned ? 'pin' : 'unpin'} needs a snapshot name`);
    return mutateCrypt(ctx, async (crypt) => {
      const meta = await setPinned(crypt.paths, await resolveSnapshotArg(crypt.paths, name), pinned);
      return {
        json: { ok: true, name: meta.name, pinned },
        human: pinned ? `pinned ${meta.name}: prune and the free-space floor leave it alone` : `unpinned ${meta.name}`,
      };
    });
  };
}

export const runPin = pinCommand(true);
export const runUnpin = pinCommand(false);

export async function runLabel(args: string[], _opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const [name, ...words] = args;
  if (!name || !words.length) throw new UsageError('label needs a snapshot name and the text (an empty text "" removes the label)');
  const label = validateLabel(words.join(' '));
  return mutateCrypt(ctx, async (crypt) => {
    const meta = await setLabel(crypt.paths, await resolveSnapshotArg(crypt.paths, name), label);
    return { json: { ok: true, name: meta.name, label }, human: label ? `labelled ${meta.name}: ${label}` : `removed the label of ${meta.name}` };
  });
}
