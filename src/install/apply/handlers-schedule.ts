// Handlers for the scheduled units: write when different, enable/start the timer unless systemd already
// runs this exact version, remove what the answers dropped. Each is idempotent: a re-run changes nothing.
// A user unit (a rootless crypt's, src/base/systemctl.ts) is read, written and removed as its owner (root
// never follows links in a home it does not own) and managed through the owner's user manager, kept
// running by lingering.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { exists, writeFileAtomic } from '../../base/sys/fs.js';
import { asUser } from '../../base/runner.js';
import type { Step } from '../../model/steps.js';
import { systemctlArgv } from '../../base/systemctl.js';
import { changed, unchanged, type ApplyContext, type Outcome } from './context.js';
import type { UnitOwner } from '../../model/config.js';

type S<K extends Step['kind']> = Extract<Step, { kind: K }>;

export async function readAs(ctx: ApplyContext, user: UnitOwner | undefined, file: string): Promise<string | null> {
  if (!user) return readFile(file, 'utf8').catch(() => null);
  const r = await ctx.runner.run(asUser(user, ['cat', '--', file]), { allowFailure: true });
  return r.exitCode === 0 ? r.stdout : null;
}

export async function writeUnit(s: S<'write-unit'>, ctx: ApplyContext): Promise<Outcome> {
  if ((await readAs(ctx, s.user, s.path)) === s.content) return unchanged('same content');
  if (!s.user) {
    await writeFileAtomic(s.path, s.content, { mode: 0o644 });
    return changed();
  }
  // As the owner: its directories, a temporary file, then rename over the unit.
  const tmp = path.join(path.dirname(s.path), `.${path.basename(s.path)}.tmp`);
  await ctx.runner.run(asUser(s.user, ['mkdir', '-p', '--', path.dirname(s.path)]));
  await ctx.runner.run(asUser(s.user, ['tee', '--', tmp]), { input: s.content });
  await ctx.runner.run(asUser(s.user, ['chmod', '0644', '--', tmp]));
  await ctx.runner.run(asUser(s.user, ['mv', '-f', '-T', '--', tmp, s.path]));
  return changed();
}

export async function show(ctx: ApplyContext, user: UnitOwner | undefined, unit: string, prop: string): Promise<string> {
  const r = await ctx.runner.run(systemctlArgv(user, 'show', `--property=${prop}`, '--value', unit), { allowFailure: true });
  return r.stdout.trim();
}

/** A user timer fires only while its owner's manager runs: lingering keeps it running without a login. */
export async function lingering(ctx: ApplyContext, user: UnitOwner): Promise<boolean> {
  const r = await ctx.runner.run(['loginctl', 'show-user', user.name, '--property=Linger', '--value'], { allowFailure: true });
  return r.stdout.trim() === 'yes';
}

export async function enableTimer(s: S<'enable-timer'>, ctx: ApplyContext): Promise<Outcome> {
  const u = s.user;
  const lingers = !u || (await lingering(ctx, u));
  const enabled = lingers && (await ctx.runner.run(systemctlArgv(u, 'is-enabled', s.unit), { allowFailure: true })).stdout.trim() === 'enabled';
  // NeedDaemonReload: the timer or its service changed on disk since systemd loaded them.
  if (enabled && (await show(ctx, u, s.unit, 'ActiveState')) === 'active' && (await show(ctx, u, s.unit, 'NeedDaemonReload')) === 'no') {
    const service = s.unit.replace(/\.timer$/, '.service');
    if ((await show(ctx, u, service, 'NeedDaemonReload')) === 'no') return unchanged('enabled and running');
  }
  if (u) {
    await ctx.runner.run(['loginctl', 'enable-linger', u.name]);
    await ctx.runner.run(['systemctl', 'start', `user@${u.uid}.service`]);
  }
  await ctx.runner.run(systemctlArgv(u, 'daemon-reload'));
  await ctx.runner.run(systemctlArgv(u, 'enable', s.unit));
  await ctx.runner.run(systemctlArgv(u, 'restart', s.unit)); // a running timer keeps its old calendar until restarted
  return changed();
}

export async function removeUnit(s: S<'remove-unit'>, ctx: ApplyContext): Promise<Outcome> {
  const u = s.user;
  if (u ? (await ctx.runner.run(asUser(u, ['test', '-e', s.path]), { allowFailure: true })).exitCode !== 0 : !(await exists(s.path))) return unchanged('absent');
  if (s.systemd) await ctx.runner.run(systemctlArgv(u, 'disable', '--now', s.unit), { allowFailure: true });
  if (u) await ctx.runner.run(asUser(u, ['rm', '-f', '--', s.path]));
  else await rm(s.path);
  // A user manager that is not running has nothing loaded to forget.
  if (s.systemd) await ctx.runner.run(systemctlArgv(u, 'daemon-reload'), { allowFailure: !!u });
  return changed();
}
