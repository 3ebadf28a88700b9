// `lychd-crypt prune [policy flags] [--dry-run]`: the policy is the command line's when any policy flag is
// given, else the crypt's configured `retention:`. The pure policy (src/runtime/retention/policy.ts) decides;
// src/runtime/retention/prune.ts deletes under the lock. --dry-run reads only and takes no lock.
import { UsageError } from '../../base/errors.js';
import { mutateCrypt } from '../frame/mutate.js';
import { withCrypt, type OpenCrypt } from '../../base/crypt/open.js';
import { policyFromOptions } from '../../runtime/retention/options.js';
import { isEmptyPolicy, type RetentionDecision, type RetentionPolicy, toPolicy } from '../../runtime/retention/policy.js';
import { decideRetention, deleteSnapshots, renderDecisions } from '../../runtime/retention/prune.js';
import { recordRun } from '../../runtime/status/record.js';
import { replicaBases } from '../../runtime/replicate/record.js';
import { cryptRequest, type CommandContext, type CommandOutput } from '../frame/context.js';

function choosePolicy(crypt: OpenCrypt, opts: Record<string, unknown>): { policy: RetentionPolicy; source: 'command line' | 'configuration' } {
  const cli = policyFromOptions(opts);
  if (cli) return { policy: cli, source: 'command line' };
  const configured = crypt.config.retention ? toPolicy(crypt.config.retention) : null;
  if (configured && !isEmptyPolicy(configured)) return { policy: configured, source: 'configuration' };
  throw new UsageError('prune needs a policy: flags such as --keep-last N, --daily N, --max-age AGE, or retention: in the answers file', {
    hint: 'e.g. lychd-crypt prune --keep-last 10 --daily 7 --weekly 4 --dry-run',
  });
}

export async function runPrune(_args: string[], opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  policyFromOptions(opts); // bad flags fail before the crypt is opened
  const dryRun = Boolean(opts.dryRun);
  const out = (decisions: RetentionDecision[], chosen: ReturnType<typeof choosePolicy>) => ({
    json: {
      ok: true,
      dryRun,
      // `keep` and `maxAgeSeconds` are the original keys (scripts may read them); the rest is the policy as applied.
      policy: { ...chosen.policy, keep: chosen.policy.last ?? null, maxAgeSeconds: chosen.policy.within === undefined ? null : chosen.policy.within / 1000 },
      policySource: chosen.source,
      decisions,
      // A dry run deletes nothing: what it would delete is `wouldDelete`, never `deleted`.
      [dryRun ? 'wouldDelete' : 'deleted']: decisions.filter((d) => d.action === 'delete').map((d) => d.name),
    },
    human: renderDecisions(decisions, dryRun),
  });
  if (dryRun) {
    return withCrypt(ctx, cryptRequest(ctx), async (crypt) => {
      const chosen = choosePolicy(crypt, opts);
      return out(await decideRetention(crypt.paths, chosen.policy, new Date(), await replicaBases(crypt.config)), chosen);
    });
  }
  return mutateCrypt(ctx, async (crypt) => {
    const chosen = choosePolicy(crypt, opts);
    const started = Date.now();
    const decisions = await decideRetention(crypt.paths, chosen.policy, new Date(), await replicaBases(crypt.config));
    const deleted = await deleteSnapshots(crypt.paths, ctx.runner, decisions.filter((d) => d.action === 'delete').map((d) => d.name));
    await recordRun(crypt.paths, 'prune', {
      at: new Date().toISOString(),
      ok: true,
      durationMs: Date.now() - started,
      summary: `removed ${deleted.length} of ${decisions.length} snapshot(s)`,
      detail: { deleted },
    });
    return out(decisions, chosen);
  });
}
