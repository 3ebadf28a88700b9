// `lychd-crypt status [--check [--max-age AGE] [--min-free N%|SIZE]] [--prometheus FILE]`: read-only, no
// lock. --check speaks the Nagios plugin convention (src/runtime/status/health.ts): its exit code is the state, and
// a crypt that cannot be read is UNKNOWN (3), not a crash.
import type { Config } from '../../model/config.js';
import { UsageError } from '../../base/errors.js';
import { writeFileAtomic } from '../../base/sys/fs.js';
import { withCrypt } from '../../base/crypt/open.js';
import { parseFloor, type FreeFloor } from '../../model/settings.js';
import { gatherStatus, type StatusFacts } from '../../runtime/status/gather.js';
import { evaluateCheck, unknownLine, type CheckThresholds, type StatusFinding } from '../../runtime/status/health.js';
import { renderPrometheus } from '../../runtime/status/prometheus.js';
import { renderStatus } from '../../runtime/status/render.js';
import { parseAge } from '../../model/units.js';
import { cryptRequest, type CommandContext, type CommandOutput } from '../frame/context.js';

/** Without --max-age: a day and an hour, so a daily schedule that runs late is not yet a warning. */
export const DEFAULT_CHECK_AGE_MS = 25 * 3_600_000;
export const DEFAULT_CHECK_FLOOR: FreeFloor = { percent: 10 };

function thresholds(opts: Record<string, unknown>, config: Config | null): CheckThresholds {
  const maxAgeMs = opts.maxAge === undefined ? DEFAULT_CHECK_AGE_MS : parseAge(String(opts.maxAge));
  if (maxAgeMs === undefined) throw new UsageError(`--max-age expects an age like 2h or 1d, got "${String(opts.maxAge)}"`);
  const minFree = opts.minFree === undefined ? (config?.space?.minFree ?? DEFAULT_CHECK_FLOOR) : parseFloor(String(opts.minFree));
  if (!minFree) throw new UsageError(`--min-free expects a percentage like 10% or a size like 2G, got "${String(opts.minFree)}"`);
  return { maxAgeMs, minFree };
}

export async function readStatus(ctx: CommandContext): Promise<{ facts: StatusFacts; config: Config | null }> {
  // The definition comes from the registry, so an unmounted crypt reports "not mounted", not "no crypt";
  // a caller who may not act on the crypt (a monitoring user) still reads what it may (observe).
  return withCrypt(
    ctx,
    cryptRequest(ctx),
    async (crypt) => ({ facts: await gatherStatus({ ...crypt, fsUuid: crypt.entry.identity.fsUuid }, ctx.runner), config: crypt.config }),
    { allowUnmounted: true, observe: true },
  );
}

/** The screen, then each problem with its fix. */
function withProblems(screen: string, findings: StatusFinding[]): string {
  if (!findings.length) return screen;
  return [screen, '', 'problems:', ...findings.flatMap((x) => [`  ${x.state === 2 ? 'CRITICAL' : 'WARNING'}: ${x.what}`, `    fix: ${x.fix}`])].join('\n');
}

export async function runStatus(_args: string[], opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const now = new Date();
  if (opts.check) {
    try {
      thresholds(opts, null); // bad flags are UNKNOWN too, but say so before reading anything
      const { facts, config } = await readStatus(ctx);
      if (opts.prometheus) await writeFileAtomic(String(opts.prometheus), renderPrometheus(facts), { mode: 0o644 });
      const r = evaluateCheck(facts, thresholds(opts, config), now);
      return { json: { ...r, status: facts }, human: r.line, exitCode: r.state };
    } catch (e) {
      const r = unknownLine((e as Error).message);
      return { json: r, human: r.line, exitCode: r.state };
    }
  }
  // Plain status says the same as --check (with its default thresholds, or the ones given): exit 1 and the
  // fix for each problem — not mounted, read-only, an interrupted operation, leftovers, stale, full ….
  const { facts, config } = await readStatus(ctx);
  if (opts.prometheus) await writeFileAtomic(String(opts.prometheus), renderPrometheus(facts), { mode: 0o644 });
  const r = evaluateCheck(facts, thresholds(opts, config), now);
  const findings = r.findings ?? [];
  return { json: { ...facts, problems: findings }, human: withProblems(renderStatus(facts, now, ctx.colour), findings), exitCode: findings.length ? 1 : 0 };
}
