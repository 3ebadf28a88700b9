// `lychd-crypt delete NAME... [--dry-run] [--yes]`: every name is resolved first (a prefix, a label, latest
// or previous; an unknown or ambiguous one: exit 2, nothing deleted), consent is asked at a terminal (or
// given with --yes), then each snapshot goes, subvolume then metadata, under one journal entry (a crash is
// finished by the next command). active/ is never a snapshot name.
import { mutateCrypt } from '../frame/mutate.js';
import { withCrypt } from '../../base/crypt/open.js';
import { removeSnapshots, resolveSnapshots, type Resolved } from '../../runtime/snapshots/remove.js';
import { readMeta, type SnapshotMeta } from '../../runtime/snapshots/meta.js';
import type { CryptPaths } from '../../base/crypt/paths.js';
import { CryptError, RefusedError, UsageError } from '../../base/errors.js';
import { cryptRequest, type CommandContext, type CommandOutput } from '../frame/context.js';

/** A word for a shell: as is when plain, else in single quotes. */
const shellWord = (w: string): string => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`);

/** The command to run again with consent, exactly: the resolved names, and --crypt when one was given. */
export function consentCommand(ctx: CommandContext, names: string[]): string {
  const crypt = ctx.globals.crypt !== undefined ? ['--crypt', ctx.globals.crypt] : [];
  return ['lychd-crypt', ...crypt, 'delete', ...names, '--yes'].map(shellWord).join(' ');
}

async function withMeta(paths: CryptPaths, targets: Resolved[]): Promise<{ name: string; meta: SnapshotMeta | undefined }[]> {
  return Promise.all(targets.map(async (t) => ({ name: t.name, meta: t.meta ? await readMeta(paths, t.name).catch(() => undefined) : undefined })));
}

export async function runDelete(args: string[], opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const names = args.flatMap((a) => (Array.isArray(a) ? a : [a])).map(String);
  if (!names.length) throw new UsageError('delete needs at least one snapshot name');

  if (opts.dryRun) {
    return withCrypt(ctx, cryptRequest(ctx), async (crypt) => {
      const targets = await withMeta(crypt.paths, await resolveSnapshots(crypt.paths, names));
      const line = ({ name, meta }: (typeof targets)[number]): string =>
        `would delete ${name}${meta ? ` (${[meta.createdAt, meta.label, meta.pinned ? 'pinned' : null].filter(Boolean).join(', ')})` : ' (incomplete)'}`;
      return {
        json: { ok: true, dryRun: true, wouldDelete: targets.map((t) => t.name) },
        human: [...targets.map(line), '(dry run: nothing was changed)'].join('\n'),
      };
    });
  }

  return mutateCrypt(ctx, async (crypt, _healed, recovered) => {
    // The same delete again after a crash: what the recovery just finished (by full name) counts as deleted.
    const finished = recovered?.op === 'delete' ? names.filter((n) => recovered.names.includes(n)) : [];
    const rest = names.filter((n) => !finished.includes(n));
    const targets = rest.length ? await resolveSnapshots(crypt.paths, rest) : [];
    if (opts.yes !== true && targets.length) {
      const list = targets.map((t) => t.name);
      if (!ctx.interactive) {
        throw new RefusedError(`delete removes ${list.join(', ')} for good; it needs consent, and nothing was changed`, {
          hint: `Run it in a terminal to be asked, or give consent with: ${consentCommand(ctx, list)}`,
        });
      }
      const { confirmDelete } = await import('../ui/confirm-delete.js');
      // Ctrl-C / Escape: CancelledError (exit 130) from the prompt; No (the default): refused, exit 3.
      if (!(await confirmDelete(await withMeta(crypt.paths, targets)))) {
        throw new RefusedError('delete not confirmed; nothing was changed', { hint: 'Answer yes, or run it with --yes.' });
      }
    }
    const deleted: string[] = [...finished];
    try {
      await removeSnapshots(crypt.paths, ctx.runner, targets, 'delete', (name) => deleted.push(name));
    } catch (e) {
      const failed = targets[deleted.length - finished.length]?.name ?? '';
      throw new CryptError(`deleting ${failed} failed: ${(e as Error).message}`, {
        cause: e,
        hint: `${deleted.length ? `Already deleted: ${deleted.join(', ')}. ` : ''}The other snapshots and active/ are untouched; \`lychd-crypt doctor\` shows what is left.`,
      });
    }
    return {
      json: { ok: true, deleted },
      human: deleted.map((n) => `deleted ${n}`).join('\n'),
    };
  });
}
