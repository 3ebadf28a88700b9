// `lychd-crypt migrate --to-device DEV [--wipe] [--yes] [--keep-image] [--dry-run]`: move a Method B crypt
// onto a partition of its own, online (btrfs replace), PostgreSQL running. Root only. The consent rules are
// init's: a device in use is refused, one holding data needs --wipe, and the move itself --yes (or a yes at
// a terminal). The image is removed only once doctor finds the crypt healthy on the device (or kept:
// --keep-image). --dry-run reads only and shows the plan a run applies.
import { unlink } from 'node:fs/promises';
import { RefusedError, UsageError } from '../../base/errors.js';
import { withLock } from '../../base/crypt/lock.js';
import { withCrypt, type OpenCrypt } from '../../base/crypt/open.js';
import { shellLine } from '../../base/output/text.js';
import { humanSize } from '../../model/units.js';
import { migrateCrypt, type MigrateReport } from '../../runtime/capacity/migrate.js';
import { capacityLockPath } from '../../runtime/capacity/journal.js';
import { loadDoctorEnv } from '../../care/load-env.js';
import { runChecks, summarize } from '../../care/doctor.js';
import { askConfirm } from '../ui/prompts.js';
import { cryptRequest, type CommandContext, type CommandOutput } from '../frame/context.js';

/** The image goes once doctor is healthy on the device; otherwise it stays and the findings are named. */
async function settleImage(ctx: CommandContext, crypt: OpenCrypt, image: string, keep: boolean): Promise<{ removed: boolean; why: string }> {
  if (keep) return { removed: false, why: '--keep-image' };
  // Root looks at the host's side only on a rootless crypt (as repair's root part does): never the owner's files.
  const checks = await runChecks(await loadDoctorEnv(ctx.runner, crypt), { hostOnly: crypt.config.profile === 'rootless' });
  const bad = checks.filter((c) => c.status === 'problem' || c.status === 'cannot-check');
  if (!summarize(checks).healthy) return { removed: false, why: `doctor is not healthy yet (${bad.map((c) => c.id).join(', ')}): remove ${image} once it is` };
  await unlink(image);
  return { removed: true, why: 'doctor is healthy on the device' };
}

function render(r: MigrateReport, image: { removed: boolean; why: string } | null): string {
  const lines = r.finished.map((l) => `recovered: ${l}`);
  if (r.steps.length || r.dryRun) lines.push(`${r.dryRun ? 'would move' : 'moved'} the crypt (${humanSize(r.usedBytes)} used) from ${r.image} onto ${r.device}`);
  for (const [i, s] of r.steps.entries()) {
    const state = s.probe ? (s.probe.status === 'satisfied' ? `already done${s.probe.detail ? ` (${s.probe.detail})` : ''}` : 'would change') : `${s.status}${s.detail ? ` (${s.detail})` : ''}`;
    lines.push(`  ${i + 1}. ${s.actions.title}: ${state}`);
    if (r.dryRun) for (const c of s.actions.commands) lines.push(`       $ ${shellLine(c)}`);
  }
  if (image) lines.push(image.removed ? `removed the image ${r.image} (${image.why})` : `kept the image ${r.image}: ${image.why}`);
  for (const n of r.dryRun ? r.plan.notes : []) lines.push(`note: ${n}`);
  return lines.join('\n');
}

export async function runMigrate(_args: string[], opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const device = typeof opts.toDevice === 'string' ? opts.toDevice : '';
  if (!device) throw new UsageError('migrate needs --to-device DEV', { hint: 'e.g. lychd-crypt migrate --to-device /dev/disk/by-id/…-part3 --dry-run' });
  const dryRun = Boolean(opts.dryRun);
  const wipe = Boolean(opts.wipe);
  if (process.getuid?.() !== 0) {
    throw new RefusedError('`migrate` moves the crypt onto a device: only root can; nothing was changed', { hint: `Run: sudo ${shellLine(['lychd-crypt', ...ctx.argv])}` });
  }
  if (!dryRun && !opts.yes) {
    const yes = ctx.interactive && (await askConfirm(`Move the crypt onto ${device} (online; ${wipe ? 'ITS DATA IS OVERWRITTEN' : 'it must hold no data'})?`, { initialValue: false }));
    if (!yes) throw new RefusedError(`moving the crypt onto ${device} needs consent; nothing was changed`, { hint: `Look at the plan (\`lychd-crypt migrate --to-device ${device} --dry-run\`), then add --yes.` });
  }
  let image: { removed: boolean; why: string } | null = null;
  const report = await withCrypt(
    ctx,
    cryptRequest(ctx),
    async (crypt) => {
      if (dryRun) return migrateCrypt(ctx, crypt, { device, wipe, dryRun });
      return withLock(capacityLockPath(crypt.config, crypt.paths.lock), { waitSeconds: ctx.globals.wait, operation: ctx.command, activity: ctx.activity }, async () => {
        const r = await migrateCrypt(ctx, crypt, { device, wipe, dryRun });
        if (r.steps.length) image = await settleImage(ctx, crypt, r.image, Boolean(opts.keepImage));
        return r;
      });
    },
    { asRoot: true },
  );
  const json = {
    ok: true,
    dryRun,
    device: report.device,
    image: report.image,
    imageRemoved: (image as { removed: boolean } | null)?.removed ?? false,
    imageNote: (image as { why: string } | null)?.why ?? null,
    finished: report.finished,
    notes: report.plan.notes,
    steps: report.steps.map((s) => ({ kind: s.kind, title: s.actions.title, commands: s.actions.commands, ...(s.probe ? { probe: s.probe } : { status: s.status, detail: s.detail ?? null }) })),
  };
  return { json, human: render(report, image) };
}
