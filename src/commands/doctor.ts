// `lychd-crypt doctor`: read-only checks of the crypt, no lock. Exit 0 healthy, 1 problems found.
import { resolveCryptPath } from '../crypt/open.js';
import { loadDoctorEnv } from '../doctor/load.js';
import { doctorHuman, doctorJson } from '../doctor/render.js';
import { runChecks, summarize } from '../doctor/run.js';
import type { CommandContext, CommandOutput } from './context.js';

export async function runDoctor(_args: string[], _opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const root = await resolveCryptPath(ctx);
  const env = await loadDoctorEnv(ctx.runner, root);
  const checks = await runChecks(env);
  return { json: doctorJson(root, checks), human: doctorHuman(root, checks), exitCode: summarize(checks).healthy ? 0 : 1 };
}
