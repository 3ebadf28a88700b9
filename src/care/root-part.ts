// What root does itself when it runs `repair` on a rootless crypt, before the repair goes on as the owner
// (SPEC section 8): the steps only root can take (ROOT_ONLY: mounting the crypt and its loop device, the
// persisted mount, the installed runtime), planned from the checks that look at the host alone — never at
// the owner's files, which the owner's own process then checks and repairs. After a mount the crypt's
// identity is checked (a no-follow walk to it, its filesystem UUID) before the owner's part begins.
import { RefusedError } from '../base/errors.js';
import { isMountedCrypt } from '../base/crypt/open.js';
import { cryptPaths } from '../base/crypt/paths.js';
import { selectEntry, type CryptRequest } from '../base/crypt/select.js';
import { loadDoctorEnv } from './load-env.js';
import { runChecks } from './doctor.js';
import type { ApplyRepair, RepairStepResult } from './repair-steps.js';
import { planRepair, ROOT_ONLY } from './plan.js';
import type { OpContext } from '../base/context.js';

/** apply: the steps through repair's table, handed in by the command. */
export async function repairRootPart(ctx: OpContext, req: CryptRequest, apply: ApplyRepair): Promise<RepairStepResult[]> {
  const entry = await selectEntry(ctx, req);
  const config = entry.config;
  const crypt = { shown: config.crypt.path, config, paths: cryptPaths(config.crypt.path, entry.stateDir) };
  const done: RepairStepResult[] = [];
  // Twice at most: what is checked only on a mounted crypt (the installed runtime) shows once it is mounted.
  for (let round = 0; round < 2; round++) {
    const steps = planRepair(await runChecks(await loadDoctorEnv(ctx.runner, crypt), { hostOnly: true })).steps.filter((s) => ROOT_ONLY.includes(s.kind));
    if (!steps.length) break;
    done.push(...(await apply(steps, { runner: ctx.runner, crypt: null })));
    const mounted = steps.some((s) => s.kind === 'mount' || s.kind === 'remount-crypt');
    if (mounted && !(await isMountedCrypt(entry))) {
      throw new RefusedError(`what is mounted at ${config.crypt.path} now is not the registered crypt "${entry.name}" (filesystem ${entry.identity.fsUuid}); nothing else was done`, {
        hint: `Check ${config.loopback?.image ?? config.partition?.device ?? 'its source'} and what is mounted there (findmnt ${config.crypt.path}), then run \`lychd-crypt doctor\`.`,
      });
    }
    if (!mounted) break;
  }
  return done;
}
