// `lychd-crypt delete NAME... [--dry-run] [--yes] [--force]`: every name is resolved first (a prefix, a
// label, latest or previous; an unknown or ambiguous one: exit 2, nothing deleted), a pinned snapshot is
// refused (exit 3) unless --force — pins hold against a typed command as they do against prune —, consent
// is asked at a terminal (or given with --yes), then each snapshot goes, subvolume then metadata, under one
// journal entry (a crash is finished by the next command). active/ is never a snapshot name.
import { mutateCrypt } from '../frame/mutate.js';
import { withCrypt } from '../../base/crypt/open.js';
import { removeSnapshots, resolveSnapshots, type Resolved } from '../../runtime/snapshots/remove.js';
import { readMeta, type SnapshotMeta } from '../../runtime/snapshots/meta.js';
import type { CryptPaths } from '../../base/crypt/paths.js';
import { CryptError, RefusedError, UsageError } from '../../base/errors.js';
import { cryptRequest, type CommandContext, type CommandOutput } from '../frame/context.js';
import { shellLine } from '../../base/output/text.js';

/** The command to run again with consent: pasteable() (the output sink) adds --crypt and --registry as needed. */
const consentCommand = (names: string[], force: boolean): string => shellLine(['lychd-crypt', 'delete', ...names, ...(force ? ['--force'] : []), '--yes']);

async function withMeta(paths: CryptPaths, targets: Resolved[]): Promise<{ name: string; meta: SnapshotMeta | undefined }[]> {
  return Promise.all(targets.map(async (t) => ({ name: t.name, meta: t.meta ? await readMeta(paths, t.name).catch(() => undefined) : undefined })));
}

/** A pinned snapshot is kept on purpose: deleting it takes --force (exit 3 otherwise, naming the pins). */
function refusePinned(targets: { name: string; meta: SnapshotMeta | undefined }[], all: string[]): void {
  const pinned = targets.filter((t) => t.meta?.pinned).map((t) => t.name);
  if (!pinned.length) return;
  throw new RefusedError(`${pinned.join(', ')} ${pinned.length === 1 ? 'is' : 'are'} pinned (kept on purpose); delete refuses ${pinned.length === 1 ? 'it' : 'them'} without --force, and nothing was changed`, {
    hint: `Unpin first (${pinned.map((n) => `\`lychd-crypt unpin ${n}\``).join(', ')}), or delete anyway with: ${consentCommand(all, true)}`,
  });
}

export async function runDelete(args: string[], opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const names = args.flatMap((a) => (Array.isArray(a) ? a : [a])).map(String);
  if (!names.length) throw new UsageError('delete needs at least one snapshot name');

  const force = opts.force === true;
  if (opts.dryRun) {
    return withCrypt(ctx, cryptRequest(ctx), async (crypt) => {
      const targets = await withMeta(crypt.paths, await resolveSnapshots(crypt.paths, names));
      const refused = (meta: SnapshotMeta | undefined) => !force && Boolean(meta?.pinned);
      const line = ({ name, meta }: (typeof targets)[number]): string =>
        `${refused(meta) ? 'would refuse' : 'would delete'} ${name}${meta ? ` (${[meta.createdAt, meta.label, meta.pinned ? (refused(meta) ? 'pinned: needs --force' : 'pinned') : null].filter(Boolean).join(', ')})` : ' (incomplete)'}`;
      return {
        json: { ok: true, dryRun: true, wouldDelete: targets.filter((t) => !refused(t.meta)).map((t) => t.name), pinned: targets.filter((t) => refused(t.meta)).map((t) => t.name) },
        human: [...targets.map(line), '(dry run: nothing was changed)'].join('\n'),
      };
    });
  }

  return mutateCrypt(ctx, async (crypt, _healed, recovered) => {
    // The same delete again after a crash: what the recovery just finished (by full name) counts as deleted.
    const finished = recovered?.op === 'delete' ? names.filter((n) => recovered.names.includes(n)) : [];
    const rest = names.filter((n) => !finished.includes(n));
    const targets = rest.length ? await resolveSnapshots(crypt.paths, rest) : [];
    const list = targets.map((t) => t.name);
    if (!force) refusePinned(await withMeta(crypt.paths, targets), list);
    if (opts.yes !== true && targets.length) {
      if (!ctx.interactive) {
        throw new RefusedError(`delete removes ${list.join(', ')} for good; it needs consent, and nothing was changed`, {
          hint: `Run it in a terminal to be asked, or give consent with: ${consentCommand(list, force)}`,
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
