// `lychd-crypt verify NAME`: restore-test a snapshot in a throwaway clone (src/verify/verify.ts). Holds the
// crypt lock, so the snapshot cannot be deleted or rolled back to while its clone runs. Exit 1 (with the
// full report on stdout, JSON or text) when a check fails; the snapshot and active/ are never changed.
import { ExitCode, UsageError } from '../core/errors.js';
import { hintFor } from '../core/expected-errors.js';
import { mutateCrypt } from '../crypt/mutate.js';
import { readMeta } from '../snapshots/meta.js';
import { isPlausibleName } from '../snapshots/names.js';
import { refuseWithoutRoom } from '../space/reserve.js';
import { spaceTargetOf } from '../space/target.js';
import { verifySnapshot, type VerifyReport } from '../verify/verify.js';
import type { CommandContext, CommandOutput } from '../core/context.js';

export function renderVerify(r: VerifyReport): string {
  const mark = (ok: boolean | null): string => (ok === null ? 'skip' : ok ? 'ok' : 'FAIL');
  const lines = r.checks.map((c) => `  ${mark(c.ok).padEnd(4)}  ${c.name}: ${c.detail.replace(/\n/g, '\n        ')}`);
  const t = Object.entries(r.timings).map(([k, v]) => `${k} ${v} ms`).join(', ');
  return `verify ${r.name}: ${r.ok ? 'restorable' : r.couldNotRun ? 'COULD NOT RUN HERE' : 'FAILED'}${t ? ` (${t})` : ''}\n${lines.join('\n')}`;
}

export async function runVerify(args: string[], _opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const name = args[0];
  if (!name) throw new UsageError('verify needs a snapshot name');
  return mutateCrypt(ctx, async (crypt) => {
    const meta = isPlausibleName(name) ? await readMeta(crypt.paths, name) : undefined;
    if (!meta) throw new UsageError(`no such snapshot: ${name}`, { hint: 'See `lychd-crypt list` for the names.' });
    // The clone's crash recovery writes WAL and pages on the crypt, next to the live database.
    if (meta.postgres && crypt.config.postgres) await refuseWithoutRoom(spaceTargetOf(crypt), 'verify');
    const report = await verifySnapshot(crypt, ctx, meta);
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
