// `lychd-crypt delete NAME...`: every name is checked first (an unknown one: exit 2, nothing deleted),
// then each snapshot goes, subvolume then metadata. active/ is never a snapshot name, so never deleted.
import { mutateCrypt } from '../crypt/mutate.js';
import { removeSnapshot, resolveSnapshots } from '../snapshots/remove.js';
import { CryptError, UsageError } from '../core/errors.js';
import type { CommandContext, CommandOutput } from '../core/context.js';

export async function runDelete(args: string[], _opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const names = args.flatMap((a) => (Array.isArray(a) ? a : [a])).map(String);
  if (!names.length) throw new UsageError('delete needs at least one snapshot name');
  return mutateCrypt(ctx, async (crypt) => {
    const targets = await resolveSnapshots(crypt.paths, names);
    const deleted: string[] = [];
    for (const t of targets) {
      try {
        await removeSnapshot(crypt.paths, ctx.runner, t);
      } catch (e) {
        throw new CryptError(`deleting ${t.name} failed: ${(e as Error).message}`, {
          cause: e,
          hint: `${deleted.length ? `Already deleted: ${deleted.join(', ')}. ` : ''}The other snapshots and active/ are untouched; \`lychd-crypt doctor\` shows what is left.`,
        });
      }
      deleted.push(t.name);
    }
    return {
      json: { ok: true, deleted },
      human: deleted.map((n) => `deleted ${n}`).join('\n'),
    };
  });
}
