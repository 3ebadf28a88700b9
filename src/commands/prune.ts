// `lychd-crypt prune --keep N --max-age AGE [--dry-run]`: the pure policy (snapshots/prune-policy.ts)
// decides, this applies it under the lock. --dry-run reads only and takes no lock.
import { UsageError } from '../core/errors.js';
import { mutateCrypt } from '../crypt/mutate.js';
import { withCrypt } from '../crypt/open.js';
import type { OpenCrypt } from '../crypt/open.js';
import { readSnapshotDir } from '../snapshots/meta.js';
import { parseAge, planPrune, type PruneDecision, type PrunePolicy } from '../snapshots/prune-policy.js';
import { removeSnapshot } from '../snapshots/remove.js';
import { CryptError } from '../core/errors.js';
import type { CommandContext, CommandOutput } from '../core/context.js';

export function parsePolicy(opts: Record<string, unknown>): PrunePolicy {
  const policy: PrunePolicy = {};
  if (opts.keep !== undefined) {
    const n = Number(opts.keep);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--keep expects a whole number, got "${String(opts.keep)}"`);
    policy.keep = n;
  }
  if (opts.maxAge !== undefined) {
    const ms = parseAge(String(opts.maxAge));
    if (ms === undefined) throw new UsageError(`--max-age expects an age like 30d, 12h, 2w, 90m or 45s, got "${String(opts.maxAge)}"`);
    policy.maxAgeMs = ms;
  }
  if (policy.keep === undefined && policy.maxAgeMs === undefined) {
    throw new UsageError('prune needs a policy: --keep N and/or --max-age AGE', { hint: 'e.g. lychd-crypt prune --keep 10 --max-age 30d --dry-run' });
  }
  return policy;
}

async function decide(crypt: OpenCrypt, policy: PrunePolicy): Promise<PruneDecision[]> {
  const { complete } = await readSnapshotDir(crypt.paths);
  return planPrune(complete, policy, new Date());
}

function render(decisions: PruneDecision[], dryRun: boolean): string {
  if (!decisions.length) return 'no snapshots';
  const del = decisions.filter((d) => d.action === 'delete');
  const lines = decisions.map((d) => `${d.action === 'delete' ? (dryRun ? 'would delete' : 'deleted') : 'keep'}  ${d.name}  (${d.reason})`);
  lines.push(`${dryRun ? 'would delete' : 'deleted'} ${del.length} of ${decisions.length} snapshot(s)`);
  return lines.join('\n');
}

export async function runPrune(_args: string[], opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const policy = parsePolicy(opts);
  const dryRun = Boolean(opts.dryRun);
  const json = (decisions: PruneDecision[]) => ({
    ok: true,
    dryRun,
    policy: { keep: policy.keep ?? null, maxAgeSeconds: policy.maxAgeMs === undefined ? null : policy.maxAgeMs / 1000 },
    decisions,
    deleted: decisions.filter((d) => d.action === 'delete').map((d) => d.name),
  });
  if (dryRun) {
    const decisions = await withCrypt(ctx, (crypt) => decide(crypt, policy));
    return { json: json(decisions), human: render(decisions, true) };
  }
  return mutateCrypt(ctx, async (crypt) => {
    const decisions = await decide(crypt, policy);
    const done: string[] = [];
    for (const d of decisions.filter((x) => x.action === 'delete')) {
      try {
        await removeSnapshot(crypt.paths, ctx.runner, { name: d.name, subvolume: true, meta: true });
      } catch (e) {
        throw new CryptError(`pruning ${d.name} failed: ${(e as Error).message}`, {
          cause: e,
          hint: `${done.length ? `Already deleted: ${done.join(', ')}. ` : ''}The kept snapshots and active/ are untouched.`,
        });
      }
      done.push(d.name);
    }
    return { json: json(decisions), human: render(decisions, false) };
  });
}
