// `lychd-crypt doctor`: read-only checks of the crypt, no lock. Exit 0 healthy, 1 problems found.
import { withCrypt } from '../../base/crypt/open.js';
import { loadDoctorEnv } from '../../care/load-env.js';
import { doctorHuman, doctorJson } from '../../care/render-doctor.js';
import { runChecks, summarize } from '../../care/doctor.js';
import { cryptRequest, type CommandContext, type CommandOutput } from '../frame/context.js';

export async function runDoctor(_args: string[], _opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  return withCrypt(
    ctx, cryptRequest(ctx),
    async (crypt) => {
      const checks = await runChecks(await loadDoctorEnv(ctx.runner, crypt));
      return { json: doctorJson(crypt.shown, checks), human: doctorHuman(crypt.shown, checks, ctx.colour), exitCode: summarize(checks).healthy ? 0 : 1 };
    },
    { allowUnmounted: true },
  );
}
