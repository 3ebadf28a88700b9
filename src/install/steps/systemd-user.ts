// Reading a scheduled unit and asking systemd about it, as root or — a rootless crypt's user unit
// (src/base/systemctl.ts) — as its owner: root never follows links in a home it does not own, and a user
// manager is reached as its user. A user timer fires only while that manager runs: lingering keeps it.
import { readFile } from 'node:fs/promises';
import { asUser } from '../../base/runner.js';
import { systemctlArgv } from '../../base/systemctl.js';
import type { UnitOwner } from '../../model/config.js';
import type { StepContext } from './context.js';

export async function readAs(ctx: StepContext, user: UnitOwner | undefined, file: string): Promise<string | null> {
  if (!user) return readFile(file, 'utf8').catch(() => null);
  const r = await ctx.runner.run(asUser(user, ['cat', '--', file]), { allowFailure: true });
  return r.exitCode === 0 ? r.stdout : null;
}

export async function show(ctx: StepContext, user: UnitOwner | undefined, unit: string, prop: string): Promise<string> {
  const r = await ctx.runner.run(systemctlArgv(user, 'show', `--property=${prop}`, '--value', unit), { allowFailure: true });
  return r.stdout.trim();
}

export async function lingering(ctx: StepContext, user: UnitOwner): Promise<boolean> {
  const r = await ctx.runner.run(['loginctl', 'show-user', user.name, '--property=Linger', '--value'], { allowFailure: true });
  return r.stdout.trim() === 'yes';
}
