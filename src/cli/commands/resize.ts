// `lychd-crypt resize [--size SIZE|+SIZE] [--preallocate] [--dry-run]`: grow (or shrink) a Method B crypt's image online,
// or grow Btrfs to an enlarged partition (Method A). Root only, also for a rootless crypt: it changes the
// host's side (image, loop device, Btrfs's size), never the owner's files. Under the crypt lock; an
// interrupted resize is finished first. --dry-run reads only, takes no lock, and shows the plan a run makes.
import { RefusedError } from '../../base/errors.js';
import { withLock } from '../../base/crypt/lock.js';
import { withCrypt } from '../../base/crypt/open.js';
import { shellLine } from '../../base/output/text.js';
import { formatSize } from '../../model/units.js';
import { parseSizeRequest } from '../../runtime/capacity/plan.js';
import { resizeCrypt, type ResizeReport } from '../../runtime/capacity/resize.js';
import { capacityLockPath } from '../../runtime/capacity/journal.js';
import { cryptRequest, type CommandContext, type CommandOutput } from '../frame/context.js';

function render(r: ResizeReport): string {
  const lines = [...r.finished.map((l) => `recovered: ${l}`)];
  const { plan } = r;
  const head = plan.direction === 'none'
    ? `nothing to do: the crypt is ${formatSize(plan.toBytes)}`
    : `${r.dryRun ? 'would ' : ''}${plan.direction} the crypt from ${formatSize(plan.fromBytes)} to ${formatSize(plan.toBytes)}${r.dryRun ? '' : ': done'}`;
  lines.push(head);
  for (const [i, s] of r.steps.entries()) {
    const state = s.probe ? (s.probe.status === 'satisfied' ? `already done${s.probe.detail ? ` (${s.probe.detail})` : ''}` : `would change${s.probe.detail ? ` (${s.probe.detail})` : ''}`) : `${s.status}${s.detail ? ` (${s.detail})` : ''}`;
    lines.push(`  ${i + 1}. ${s.actions.title}: ${state}`);
    if (r.dryRun) for (const c of s.actions.commands) lines.push(`       $ ${shellLine(c)}`);
  }
  for (const n of plan.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

export async function runResize(_args: string[], opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const req = typeof opts.size === 'string' ? parseSizeRequest(opts.size) : null;
  const dryRun = Boolean(opts.dryRun);
  if (process.getuid?.() !== 0) {
    throw new RefusedError('`resize` changes the crypt\'s image, loop device and filesystem size: only root can; nothing was changed', {
      hint: `Run: sudo ${shellLine(['lychd-crypt', ...ctx.argv])}`,
    });
  }
  const report = await withCrypt(ctx, cryptRequest(ctx), (crypt) =>
    dryRun
      ? resizeCrypt(ctx, crypt, req, { dryRun, preallocate: Boolean(opts.preallocate) })
      : withLock(capacityLockPath(crypt.config, crypt.paths.lock), { waitSeconds: ctx.globals.wait, operation: ctx.command, activity: ctx.activity }, () => resizeCrypt(ctx, crypt, req, { dryRun, preallocate: Boolean(opts.preallocate) })),
    { asRoot: true },
  );
  const json = {
    ok: true,
    dryRun,
    direction: report.plan.direction,
    fromBytes: report.plan.fromBytes,
    toBytes: report.plan.toBytes,
    finished: report.finished,
    notes: report.plan.notes,
    steps: report.steps.map((s) => ({ kind: s.kind, title: s.actions.title, commands: s.actions.commands, ...(s.probe ? { probe: s.probe } : { status: s.status, detail: s.detail ?? null }) })),
  };
  return { json, human: render(report) };
}
