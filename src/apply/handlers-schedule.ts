// Handlers for the scheduled units: write when different, enable/start the timer unless systemd already
// runs this exact version, remove what the answers dropped. Each is idempotent: a re-run changes nothing.
import { readFile, rm } from 'node:fs/promises';
import { exists, writeFileAtomic } from '../core/fs.js';
import type { Step } from '../plan/steps.js';
import { changed, unchanged, type ApplyContext, type Outcome } from './context.js';

type S<K extends Step['kind']> = Extract<Step, { kind: K }>;

export async function writeUnit(s: S<'write-unit'>): Promise<Outcome> {
  if ((await readFile(s.path, 'utf8').catch(() => null)) === s.content) return unchanged('same content');
  await writeFileAtomic(s.path, s.content, { mode: 0o644 });
  return changed();
}

async function show(ctx: ApplyContext, unit: string, prop: string): Promise<string> {
  const r = await ctx.runner.run(['systemctl', 'show', `--property=${prop}`, '--value', unit], { allowFailure: true });
  return r.stdout.trim();
}

export async function enableTimer(s: S<'enable-timer'>, ctx: ApplyContext): Promise<Outcome> {
  const enabled = (await ctx.runner.run(['systemctl', 'is-enabled', s.unit], { allowFailure: true })).stdout.trim() === 'enabled';
  // NeedDaemonReload: the timer or its service changed on disk since systemd loaded them.
  if (enabled && (await show(ctx, s.unit, 'ActiveState')) === 'active' && (await show(ctx, s.unit, 'NeedDaemonReload')) === 'no') {
    const service = s.unit.replace(/\.timer$/, '.service');
    if ((await show(ctx, service, 'NeedDaemonReload')) === 'no') return unchanged('enabled and running');
  }
  await ctx.runner.run(['systemctl', 'daemon-reload']);
  await ctx.runner.run(['systemctl', 'enable', s.unit]);
  await ctx.runner.run(['systemctl', 'restart', s.unit]); // a running timer keeps its old calendar until restarted
  return changed();
}

export async function removeUnit(s: S<'remove-unit'>, ctx: ApplyContext): Promise<Outcome> {
  if (!(await exists(s.path))) return unchanged('absent');
  if (s.systemd) await ctx.runner.run(['systemctl', 'disable', '--now', s.unit], { allowFailure: true });
  await rm(s.path);
  if (s.systemd) await ctx.runner.run(['systemctl', 'daemon-reload']);
  return changed();
}
