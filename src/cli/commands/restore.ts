// `lychd-crypt restore --from TARGET|URL [SNAPSHOT] [--yes] [--dry-run] [--identity F --known-hosts F]`:
// disaster recovery onto a (freshly initialised) crypt — receive the snapshot and the chain it needs from a
// target (journaled), then roll back to it through the rollback machinery (journaled, undoable), and
// PostgreSQL starts through its normal crash recovery. Root's, with root's own power (btrfs receive).
// The runbook: docs/restore.md.
import { RefusedError, UsageError } from '../../base/errors.js';
import { withCrypt, type OpenCrypt } from '../../base/crypt/open.js';
import { parseTargetUrl, type TargetConfig } from '../../model/replicate.js';
import { humanSize } from '../../model/units.js';
import { mutateWithRootPower } from '../frame/root-power.js';
import { rollbackWithHooks } from '../frame/hooks.js';
import { openTarget } from '../../runtime/replicate/targets/index.js';
import { readLocalSnapshots } from '../../runtime/replicate/local.js';
import { planRestore, type RestorePlan } from '../../runtime/restore/plan.js';
import { noMap, ownerMap, type OwnerMap } from '../../runtime/restore/ids.js';
import { describeRollbackSteps, type RollbackPlan } from '../../runtime/rollback/steps.js';
import { receivePlan } from '../../runtime/restore/restore.js';
import { planRollback, refuseNested } from '../../runtime/rollback/run.js';
import { compatibilityProblems, readLiveCluster } from '../../runtime/rollback/target.js';
import type { ReplicaTarget } from '../../runtime/replicate/stream/target.js';
import { cryptRequest, type CommandContext, type CommandOutput } from '../frame/context.js';

/** --from: a configured target's name, or a URL (an ssh URL then needs its key files named). */
function targetOf(crypt: OpenCrypt, from: string, opts: Record<string, unknown>): TargetConfig {
  const configured = crypt.config.replicate?.targets.find((t) => t.name === from);
  if (configured) {
    return { ...configured, identity: typeof opts.identity === 'string' ? opts.identity : configured.identity, knownHosts: typeof opts.knownHosts === 'string' ? opts.knownHosts : configured.knownHosts };
  }
  const url = parseTargetUrl(from);
  if ('problem' in url) {
    const names = crypt.config.replicate?.targets.map((t) => t.name) ?? [];
    throw new UsageError(`--from ${from}: not a configured target${names.length ? ` (${names.join(', ')})` : ''}, and not a URL: ${url.problem}`);
  }
  if (url.kind === 'ssh' && (typeof opts.identity !== 'string' || typeof opts.knownHosts !== 'string')) {
    throw new UsageError('restoring from an ssh:// URL needs --identity KEY and --known-hosts FILE (root\'s own ~/.ssh is never read)', {
      hint: 'Or add the target to the answers (replicate.targets) and run init: its key and known_hosts are then in the registry.',
    });
  }
  return { name: 'restore', url, retention: null, rateLimit: null, fullEvery: null, identity: (opts.identity as string | undefined) ?? null, knownHosts: (opts.knownHosts as string | undefined) ?? null };
}

function open(crypt: OpenCrypt, ctx: CommandContext, cfg: TargetConfig, opts: Record<string, unknown>): ReplicaTarget {
  const stall = opts.stallTimeout === undefined ? 60 : Number(opts.stallTimeout);
  if (!Number.isInteger(stall) || stall < 1) throw new UsageError(`--stall-timeout expects a whole number of seconds, got "${String(opts.stallTimeout)}"`);
  return openTarget(cfg, {
    runner: ctx.runner,
    registryDir: crypt.config.registry.dir,
    cryptName: crypt.config.crypt.name,
    cryptFsUuid: crypt.entry.identity.fsUuid,
    aliveSeconds: stall,
    waitSeconds: Math.max(ctx.globals.wait, 60),
    idleTimeoutMs: Math.max(stall, 600) * 1000,
  });
}

async function prepare(crypt: OpenCrypt, ctx: CommandContext, args: string[], opts: Record<string, unknown>): Promise<{ target: ReplicaTarget; plan: RestorePlan }> {
  if (typeof opts.from !== 'string') throw new UsageError('restore needs --from TARGET (a configured target\'s name, or its URL)');
  const target = open(crypt, ctx, targetOf(crypt, opts.from, opts), opts);
  // Every stream of a file:// chain is checked against its checksum before the first byte is received.
  const inv = await target.inventory({ verify: target.kind === 'file' });
  const local = (await readLocalSnapshots(crypt)).map((l) => ({ name: l.name, originUuid: l.originUuid }));
  return { target, plan: planRestore(inv, target.kind, local, args[0] ?? 'latest', target.shown) };
}

function describe(plan: RestorePlan): string[] {
  if (plan.alreadyHere) return [`the crypt already holds ${plan.target.name}: nothing to receive`];
  return plan.steps.map((s) => `receive ${s.copy.name}  ${s.parent ? `incremental against ${s.parent.name}` : 'full'}${s.copy.bytes !== null ? ` (sent as ${humanSize(s.copy.bytes)})` : ''}`);
}

export async function runRestore(args: string[], opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  if (process.getuid?.() !== 0) throw new RefusedError('restore is root\'s (btrfs receive needs CAP_SYS_ADMIN)', { hint: 'Run it with sudo.' });
  if (opts.dryRun) {
    return withCrypt(ctx, cryptRequest(ctx), async (crypt) => {
      const { target, plan } = await prepare(crypt, ctx, args, opts);
      const owners = ownerMap(plan.target.sidecar.ids, crypt.config);
      const rb = withOwners(crypt, await planRollback(crypt, plan.target.name), owners);
      const steps = [...describe(plan), ...(crypt.config.profile === 'rootless' ? [`then, as ${crypt.config.crypt.user}: lychd-crypt rollback ${rb.target} --yes`] : rb.steps.map((s) => `rollback: ${s}`))];
      return {
        json: { ok: true, dryRun: true, from: target.shown, snapshot: plan.target.name, receive: plan.steps.map((s) => ({ name: s.copy.name, parent: s.parent?.name ?? null })), owners, steps },
        human: [`Plan: restore ${crypt.shown} from ${target.shown} to ${plan.target.name} (dry run: nothing is changed)`, ...steps.map((s, i) => `${i + 1}. ${s}`)].join('\n'),
      };
    }, { rootPower: true });
  }
  return mutateWithRootPower(
    ctx,
    async (crypt) => {
      const { target, plan } = await prepare(crypt, ctx, args, opts);
      if (crypt.config.profile === 'rootless') ownerMap(plan.target.sidecar.ids, crypt.config); // refuses differing ids before anything is received
      await refuseNested(crypt, ctx);
      if (opts.yes !== true) {
        throw new RefusedError(`restore replaces active/ of ${crypt.shown} with ${plan.target.name} from ${target.shown}; it needs consent (the current state is kept as a pre-rollback snapshot)`, {
          hint: 'Look at the plan with --dry-run, then run it again with --yes.',
        });
      }
      // A rootless crypt's journal is its owner's: root's restore there is not journaled (what a crash leaves —
      // a snapshot without metadata, a .receiving- directory — is an incomplete snapshot the owner's repair
      // removes, and the next restore removes the directory).
      const received = plan.alreadyHere ? [] : await receivePlan(crypt, ctx, target, plan, { idleTimeoutMs: 600_000, journal: crypt.config.profile === 'system' });
      const meta = plan.target.sidecar.snapshot;
      const warnings = compatibilityProblems(meta, await readLiveCluster(crypt, ctx.runner));
      for (const w of warnings) ctx.log.info(`replacing the live cluster: ${w}`);
      if (crypt.config.profile === 'rootless') {
        // The rollback of a rootless crypt is its owner's (it runs their database): root stops here.
        const user = crypt.config.crypt.user;
        return {
          json: { ok: true, from: target.shown, received, snapshot: plan.target.name, rollback: null, next: `lychd-crypt rollback ${plan.target.name} --yes` },
          human: [`received ${received.map((r) => `${r.name} (${r.kind}, ${humanSize(r.bytes)})`).join(', ') || 'nothing (already here)'} from ${target.shown}`, `now, as ${user}: lychd-crypt rollback ${plan.target.name} --yes`].join('\n'),
        };
      }
      const rb = withOwners(crypt, await planRollback(crypt, plan.target.name), ownerMap(plan.target.sidecar.ids, crypt.config));
      const r = await rollbackWithHooks(crypt, ctx, rb);
      const db = r.databaseRestarted ? `; PostgreSQL is running again (start + crash recovery took ${r.recoveryMs} ms)` : crypt.config.postgres ? '; PostgreSQL was not running and stays stopped (start it: lychd-crypt db start)' : '';
      return {
        json: { ok: true, from: target.shown, received, snapshot: plan.target.name, owners: rb.owners ?? null, rollback: r, undo: `lychd-crypt rollback ${r.preRollback}` },
        human: [
          `received ${received.map((x) => `${x.name} (${x.kind}, ${humanSize(x.bytes)})`).join(', ') || 'nothing (the crypt already held it)'} from ${target.shown}`,
          `restored ${crypt.shown} to ${plan.target.name} (taken ${meta.createdAt})${db}`,
          `the replaced state is snapshot ${r.preRollback}; undo with: lychd-crypt rollback ${r.preRollback}`,
          ...(crypt.config.postgres ? [NOCOW_NOTE] : []),
        ].join('\n'),
      };
    },
  );
}

/** A send stream carries no C attribute: the restored PGDATA's files are copy-on-write until repair rewrites them. */
const NOCOW_NOTE = "note: a send stream does not carry the C (nodatacow) attribute: PGDATA's directory has it again (new files get it), its restored files are copy-on-write; `lychd-crypt doctor` shows it and `lychd-crypt repair` rewrites them (at a quiet hour: it copies PGDATA once)";

/** The rollback plan with the owners a restore maps (its steps say so). */
function withOwners(crypt: OpenCrypt, rb: RollbackPlan, owners: OwnerMap): RollbackPlan {
  const p = { ...rb, owners: noMap(owners) ? null : owners, restored: true };
  return { ...p, steps: describeRollbackSteps(crypt.config, p) };
}
