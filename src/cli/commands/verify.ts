// `lychd-crypt verify NAME`: restore-test a snapshot in a throwaway clone (src/runtime/verify/verify.ts). Holds the
// crypt lock, so the snapshot cannot be deleted or rolled back to while its clone runs. Exit 1 (with the
// full report on stdout, JSON or text) when a check fails; the snapshot and active/ are never changed.
import { ExitCode, UsageError } from '../../base/errors.js';
import { hintFor } from '../../base/expected-errors.js';
import { mutateCrypt } from '../frame/mutate.js';
import { readMeta, readSnapshotDir } from '../../runtime/snapshots/meta.js';
import { recordRun } from '../../runtime/status/record.js';
import { newestFirst } from '../../runtime/snapshots/order.js';
import { isSnapshotName } from '../../runtime/snapshots/names.js';
import { resolveSnapshotArg } from '../../runtime/snapshots/lookup.js';
import { NAMING_HINT } from '../../runtime/snapshots/resolve.js';
import { refuseWithoutRoom } from '../../runtime/space/reserve.js';
import { spaceTargetOf } from '../../runtime/space/target.js';
import { verifySnapshot, type VerifyReport } from '../../runtime/verify/verify.js';
import type { CommandContext, CommandOutput } from '../frame/context.js';

export function renderVerify(r: VerifyReport): string {
  const mark = (ok: boolean | null): string => (ok === null ? 'skip' : ok ? 'ok' : 'FAIL');
  const lines = r.checks.map((c) => `  ${mark(c.ok).padEnd(4)}  ${c.name}: ${c.detail.replace(/\n/g, '\n        ')}`);
  const t = Object.entries(r.timings).map(([k, v]) => `${k} ${v} ms`).join(', ');
  return `verify ${r.name}: ${r.ok ? 'restorable' : r.couldNotRun ? 'COULD NOT RUN HERE' : 'FAILED'}${t ? ` (${t})` : ''}\n${lines.join('\n')}`;
}

export async function runVerify(args: string[], opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const newest = Boolean(opts.newest);
  const name = args[0];
  if (!name && !newest) throw new UsageError('verify needs a snapshot name (or --newest)');
  if (name && newest) throw new UsageError('give a snapshot name or --newest, not both');
  return mutateCrypt(ctx, async (crypt) => {
    // By time, not by name: `…Z-older` sorts after `…Z` of the same second.
    const chosen = newest ? newestFirst((await readSnapshotDir(crypt.paths)).complete)[0]?.name : await resolveSnapshotArg(crypt.paths, name!);
    if (!chosen) throw new UsageError(`no snapshot to verify in ${crypt.paths.snapshots}`);
    const meta = isSnapshotName(chosen) ? await readMeta(crypt.paths, chosen) : undefined;
    if (!meta) throw new UsageError(`no such snapshot: ${chosen}`, { hint: `Nothing was changed. ${NAMING_HINT}` });
    // The clone's crash recovery writes WAL and pages on the crypt, next to the live database.
    if (meta.postgres && crypt.config.postgres) await refuseWithoutRoom(spaceTargetOf(crypt), 'verify');
    const started = Date.now();
    const report = await verifySnapshot(crypt, ctx, meta, { image: typeof opts.image === 'string' ? opts.image : undefined }).catch(async (e: unknown) => {
      // A verify that could not even run is a failed verify for status and monitoring too.
      await recordRun(crypt.paths, 'verify', { at: new Date().toISOString(), ok: false, durationMs: Date.now() - started, summary: `${chosen}: ${(e as Error).message.split('\n')[0]}`, detail: { snapshot: chosen } }).catch(() => {});
      throw e;
    });
    // For status and the Prometheus file: the last verify's outcome.
    await recordRun(crypt.paths, 'verify', {
      at: new Date().toISOString(),
      ok: report.ok,
      durationMs: Date.now() - started,
      summary: `${report.name}: ${report.ok ? 'restorable' : `FAILED (${report.checks.filter((c) => c.ok === false).map((c) => c.name).join(', ')})`}`,
      detail: { snapshot: report.name },
    });
    if (report.couldNotRun) {
      // Not a verdict on the snapshot: an error (exit 1) that says so, with the report for --json.
      return {
        json: { ...report, verdict: 'could-not-run' },
        human: `${renderVerify(report)}\nThe restore test could not run here (${report.couldNotRun.reason}); this says nothing about the snapshot. It is unchanged, and so is active/.\n${hintFor(report.couldNotRun.kind)}`,
        exitCode: ExitCode.failed,
      };
    }
    if (!report.ok) {
      // A finding, not a crash: the report (which checks failed, and why) is the output, with exit 1.
      return {
        json: report,
        human: `${renderVerify(report)}\nThe snapshot did not pass its restore test. It is unchanged, and so is active/; keep an older snapshot that verifies.`,
        exitCode: ExitCode.failed,
      };
    }
    return { json: report, human: renderVerify(report) };
  });
}
