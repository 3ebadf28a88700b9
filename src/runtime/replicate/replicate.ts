// `lychd-crypt replicate`: for each target (or the one asked for), detect (the crypt's snapshots and the
// target's inventory, whose leftovers the target removes first) → plan (./plan.ts, pure) → apply (the
// sends in order, each the parent of the next, then the target's retention) → record (./record.ts). A
// failing target is recorded and the others are still tried; nothing on the crypt ever changes.
import { approxSize, humanSize } from '../../model/units.js';
import { formatTargetUrl, DEFAULT_FULL_EVERY, type TargetConfig } from '../../model/replicate.js';
import { CryptError, ExitCode, UsageError } from '../../base/errors.js';
import type { OpContext } from '../../base/context.js';
import type { OpenCrypt } from '../../base/crypt/open.js';
import { estimateSend } from '../../base/btrfs/send.js';
import { progressText } from '../../base/pump.js';
import { toPolicy } from '../retention/policy.js';
import { buildHeader } from './stream/header.js';
import { readLocalSnapshots, type LocalFacts } from './local.js';
import { planReplication, type TargetPlan } from './plan.js';
import { readReplication, recordReplication, type TargetRecord } from './record.js';
import { sendSnapshot } from './send.js';
import { openTarget, type TargetContext } from './targets/index.js';
import type { Copy, Inventory, ReplicaTarget } from './stream/target.js';

export interface ReplicateOptions {
  /** --target NAME: only this one. */
  only?: string;
  dryRun: boolean;
  /** file:// chains: check every stream's sha256 too. */
  verify: boolean;
  /** A link that stops answering for this long ends an ssh transfer. */
  aliveSeconds: number;
  waitSeconds: number;
  idleTimeoutMs: number;
  now?: Date;
}

export interface TargetOutcome {
  name: string;
  kind: TargetConfig['url']['kind'];
  url: string;
  ok: boolean;
  /** hint: what to do (the error's own hint), shown under the message. */
  error: { message: string; exitCode: number; hint?: string } | null;
  held: number;
  cleaned: string[];
  plan: TargetPlan | null;
  /** bytes: what left the host (compressed over ssh and to file://); rawBytes: the btrfs stream's size. */
  sent: { name: string; kind: 'full' | 'incremental'; parent: string | null; bytes: number; rawBytes: number }[];
  deleted: string[];
  bytes: number;
  durationMs: number;
}

export interface ReplicationReport {
  ok: boolean;
  dryRun: boolean;
  targets: TargetOutcome[];
  exitCode: number;
}

/** What a scheduled run uses (no flags there). */
export const SCHEDULED_OPTIONS: ReplicateOptions = { dryRun: false, verify: false, aliveSeconds: 60, waitSeconds: 60, idleTimeoutMs: 600_000 };

/** One line per target: `offsite ok (sent 1, 3.2M)`, `usb FAILED: …`. */
export function summarizeReplication(r: ReplicationReport): string {
  return r.targets.map((t) => `${t.name} ${t.ok ? `ok (sent ${t.sent.length}, ${approxSize(t.bytes)}, deleted ${t.deleted.length})` : `FAILED: ${t.error!.message.split('\n')[0]}`}`).join('; ');
}

/** The targets a run acts on: all, or the one named (an unknown name is bad input, listing the names). */
export function selectTargets(targets: readonly TargetConfig[], only: string | undefined): TargetConfig[] {
  if (!targets.length) throw new UsageError('no replication target is configured', { hint: 'Add replicate: { targets: [ { name, url } ] } to the answers and run `lychd-crypt init --answers FILE --yes` (docs/replicate.md).' });
  if (only === undefined) return [...targets];
  const t = targets.find((x) => x.name === only);
  if (!t) throw new UsageError(`no target named "${only}"; the targets are: ${targets.map((x) => x.name).join(', ')}`);
  return [t];
}

async function estimate(ctx: OpContext, plan: TargetPlan, local: LocalFacts[]): Promise<void> {
  const at = (name: string) => local.find((l) => l.name === name)?.path ?? null;
  for (const s of plan.sends) {
    const p = at(s.name);
    s.estimatedBytes = p ? await estimateSend(ctx.runner, p, s.parent ? at(s.parent.name) : null).catch(() => null) : null;
  }
}

function newestOf(copies: readonly { name: string; originUuid: string; createdAt: string }[]): TargetRecord['newest'] {
  const n = [...copies].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name)).at(-1);
  return n ? { name: n.name, originUuid: n.originUuid, createdAt: n.createdAt } : null;
}

async function applyPlan(crypt: OpenCrypt, ctx: OpContext, target: ReplicaTarget, cfg: TargetConfig, plan: TargetPlan, local: LocalFacts[], inv: Inventory, out: TargetOutcome): Promise<void> {
  const byName = new Map(local.map((l) => [l.name, l]));
  for (const s of plan.sends) {
    const snap = byName.get(s.name)!;
    const parent = s.parent ? byName.get(s.parent.name)! : null;
    const header = buildHeader(crypt, snap.meta, { uuid: s.originUuid, parentUuid: s.parent?.originUuid ?? null, ctransid: snap.info.ctransid }, s.estimatedBytes);
    const started = Date.now();
    const title = `${cfg.name}: ${s.kind} ${s.name}${parent ? ` (against ${parent.name})` : ''}`;
    const a = (ctx.activity ?? (() => ({ update: () => {}, done: () => {}, fail: () => {} })))(title);
    try {
      const r = await sendSnapshot(ctx.runner, target, { name: s.name, originUuid: s.originUuid, parentOriginUuid: s.parent?.originUuid ?? null, chain: s.chain, header }, snap.path, parent?.path ?? null, {
        onProgress: (n) => a.update(`${title}: ${progressText(n, Date.now() - started, s.estimatedBytes, humanSize)}`),
      });
      a.done(humanSize(r.bytes));
      out.sent.push({ name: s.name, kind: s.kind, parent: s.parent?.name ?? null, bytes: r.bytes, rawBytes: r.rawBytes ?? r.bytes });
      out.bytes += r.bytes;
    } catch (e) {
      a.fail((e as Error).message.split('\n')[0]);
      throw e;
    }
  }
  for (const d of plan.deletes) {
    if (d.broken && target.removeBroken) await target.removeBroken(d.name);
    else if (!d.broken) await target.remove(inv.copies.find((c) => c.name === d.name) as Copy);
    out.deleted.push(d.name);
  }
}

function recordOf(cfg: TargetConfig, out: TargetOutcome, inv: Inventory | null, prev: TargetRecord | undefined, local: LocalFacts[]): TargetRecord {
  const after = inv
    ? [...inv.copies.filter((c) => !out.deleted.includes(c.name)), ...out.sent.map((s) => local.find((l) => l.name === s.name)!).map((l) => ({ name: l.name, originUuid: l.originUuid, createdAt: l.createdAt }))]
    : null;
  const summary = out.ok
    ? `sent ${out.sent.length}${out.sent.length ? ` (${out.sent.map((s) => `${s.name} ${s.kind}`).join(', ')}, ${approxSize(out.bytes)})` : ''}, deleted ${out.deleted.length}`
    : out.error!.message.split('\n')[0]!;
  const names = after ? after.map((c) => c.name).sort() : (prev?.names ?? []);
  const chain =
    cfg.url.kind === 'file' && inv
      ? {
          intact: inv.broken.filter((b) => !out.deleted.includes(b.name) && !out.sent.some((s) => s.name === b.name)).length === 0,
          sinceFull: (() => {
            const last = out.sent.at(-1);
            if (last) return out.plan?.sends.find((s) => s.name === last.name)?.chain?.index ?? 0;
            const n = newestOf(inv.copies);
            return n ? (inv.chainIndex[n.name] ?? 0) : 0;
          })(),
          broken: inv.broken.filter((b) => !out.deleted.includes(b.name) && !out.sent.some((s) => s.name === b.name)).map((b) => b.name),
        }
      : prev?.chain;
  return {
    kind: cfg.url.kind,
    url: formatTargetUrl(cfg.url),
    at: new Date().toISOString(),
    ok: out.ok,
    summary,
    durationMs: out.durationMs,
    bytes: out.bytes,
    sent: out.sent.map((s) => s.name),
    deleted: out.deleted,
    newest: after ? newestOf(after) : (prev?.newest ?? null),
    copies: after ? after.length : (prev?.copies ?? 0),
    names,
    ...(chain ? { chain } : {}),
    lastSuccessAt: out.ok ? new Date().toISOString() : (prev?.lastSuccessAt ?? null),
  };
}

export async function runReplication(crypt: OpenCrypt, ctx: OpContext, opts: ReplicateOptions): Promise<ReplicationReport> {
  const config = crypt.config;
  const targets = selectTargets(config.replicate?.targets ?? [], opts.only);
  const now = opts.now ?? new Date();
  const local = await readLocalSnapshots(crypt);
  const prev = await readReplication(config);
  const tctx: TargetContext = {
    runner: ctx.runner,
    registryDir: config.registry.dir,
    cryptName: config.crypt.name,
    cryptFsUuid: crypt.entry.identity.fsUuid,
    aliveSeconds: opts.aliveSeconds,
    waitSeconds: opts.waitSeconds,
    idleTimeoutMs: opts.idleTimeoutMs,
  };
  const outcomes: TargetOutcome[] = [];
  for (const cfg of targets) {
    const started = Date.now();
    const out: TargetOutcome = { name: cfg.name, kind: cfg.url.kind, url: formatTargetUrl(cfg.url), ok: true, error: null, held: 0, cleaned: [], plan: null, sent: [], deleted: [], bytes: 0, durationMs: 0 };
    const target = openTarget(cfg, tctx);
    let inv: Inventory | null = null;
    try {
      inv = await target.inventory({ verify: opts.verify });
      out.held = inv.copies.length;
      out.cleaned = inv.cleaned;
      for (const c of inv.cleaned) ctx.log.info(`${cfg.name}: removed ${c}, left by an interrupted transfer`);
      const retention = cfg.retention ?? config.retention ?? null;
      out.plan = planReplication(local, { kind: cfg.url.kind, policy: retention ? toPolicy(retention) : null, fullEvery: cfg.fullEvery ?? DEFAULT_FULL_EVERY, inventory: inv }, now);
      await estimate(ctx, out.plan, local);
      if (!opts.dryRun) await applyPlan(crypt, ctx, target, cfg, out.plan, local, inv, out);
    } catch (e) {
      out.ok = false;
      out.error = { message: (e as Error).message, exitCode: e instanceof CryptError ? e.exitCode : ExitCode.failed, ...(e instanceof CryptError && e.hint ? { hint: e.hint } : {}) };
    } finally {
      await target.close();
    }
    out.durationMs = Date.now() - started;
    if (!opts.dryRun) await recordReplication(config, cfg.name, recordOf(cfg, out, inv, prev.targets[cfg.name], local));
    outcomes.push(out);
  }
  const codes = outcomes.filter((o) => !o.ok).map((o) => o.error!.exitCode);
  const exitCode = codes.includes(ExitCode.refused) ? ExitCode.refused : codes.includes(ExitCode.busy) ? ExitCode.busy : codes.length ? ExitCode.failed : ExitCode.ok;
  return { ok: exitCode === ExitCode.ok, dryRun: opts.dryRun, targets: outcomes, exitCode };
}

/** One line per send and delete (what --dry-run prints, and what a run did). */
export function renderReplication(r: ReplicationReport): string {
  const lines: string[] = [];
  for (const t of r.targets) {
    lines.push(`${t.name}  ${t.url}  ${t.held} cop${t.held === 1 ? 'y' : 'ies'} held${t.plan?.common ? `, newest common ${t.plan.common.name}` : ''}${t.cleaned.length ? `, removed ${t.cleaned.length} leftover(s)` : ''}`);
    if (t.plan) {
      for (const s of t.plan.sends) {
        const done = t.sent.find((x) => x.name === s.name);
        const size = done ? humanSize(done.bytes) : s.estimatedBytes !== null ? `~${humanSize(s.estimatedBytes)}` : 'size unknown';
        lines.push(`  ${r.dryRun ? 'would send' : done ? 'sent' : 'not sent'}  ${s.name}  ${s.kind}${s.parent ? ` against ${s.parent.name}` : ''}, ${size} (${s.reason})`);
      }
      for (const d of t.plan.deletes) lines.push(`  ${r.dryRun ? 'would delete' : t.deleted.includes(d.name) ? 'deleted' : 'not deleted'}  ${d.name}  (${d.reason})`);
      if (!t.plan.sends.length && !t.plan.deletes.length) lines.push('  up to date: nothing to send or delete');
    }
    if (t.error) lines.push(`  FAILED: ${t.error.message.split('\n').join('\n  ')}`);
    if (t.error?.hint) lines.push(`  ${t.error.hint}`);
  }
  if (r.dryRun) lines.push('(dry run: nothing was sent or deleted)');
  return lines.join('\n');
}

