// `lychd-crypt doctor`: read-only checks of the crypt, no lock. Exit 0 healthy, 1 problems found.
import { withCrypt } from '../crypt/open.js';
import { loadDoctorEnv } from '../doctor/load.js';
import { doctorHuman, doctorJson } from '../doctor/render.js';
import { runChecks, summarize } from '../doctor/run.js';
import type { CommandContext, CommandOutput } from '../core/context.js';

export async function runDoctor(_args: string[], _opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  return withCrypt(
    ctx,
    async (crypt) => {
      const checks = await runChecks(await loadDoctorEnv(ctx.runner, crypt));
      return { json: doctorJson(crypt.shown, checks), human: doctorHuman(crypt.shown, checks, ctx.colour), exitCode: summarize(checks).healthy ? 0 : 1 };
    },
    { allowUnmounted: true },
  );
}
