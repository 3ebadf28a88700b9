// init's steps for the scheduled runs (pure): write the units the answers ask for, enable their timers,
// remove the ones they no longer ask for. Re-running init with a changed or removed `schedule:` converges.
// A system crypt's units are root's (persist.unitDir); a rootless crypt's are its owner's user units
// (src/base/systemctl.ts), so a switch of profile moves them. Without systemd the units are not written;
// the notes carry the equivalent cron lines instead.
import path from 'node:path';
import type { Config, UnitOwner } from '../../model/config.js';
import type { HostFacts } from '../detect/facts.js';
import type { InitStep } from '../../model/steps.js';
import { stateDirFor } from '../../base/crypt/paths.js';
import { cronLine } from '../render/cron.js';
import { renderScheduleUnits, type RenderedUnit } from '../render/schedule-units.js';
import { userUnitDir } from '../../base/systemctl.js';
import { commandArgv } from '../../base/output/hint.js';
import { DEFAULT_REGISTRY_DIR } from '../../base/registry/store.js';

/** The registry a scheduled run must be told (units and cron keep no environment of ours): undefined when the default. */
export const registryOption = (config: Pick<Config, 'registry'>): string | undefined =>
  path.resolve(config.registry.dir) === DEFAULT_REGISTRY_DIR ? undefined : config.registry.dir;

/** Timers go before their services, so nothing starts a service that is about to disappear. */
function timersFirst(names: string[]): string[] {
  return [...names].sort((a, b) => Number(b.endsWith('.timer')) - Number(a.endsWith('.timer')));
}

export function scheduleSteps(facts: Pick<HostFacts, 'systemdRunning' | 'scheduleUnits' | 'userScheduleUnits'>, config: Config, notes: string[]): InitStep[] {
  const owner: UnitOwner | undefined = config.profile === 'rootless' ? { name: config.crypt.user, uid: config.crypt.uid, gid: config.crypt.gid } : undefined;
  const systemDir = config.persist.unitDir;
  const userDir = userUnitDir(config.crypt.home);
  const unitDir = owner ? userDir : systemDir;
  const bin = path.join(config.install.binDir, 'lychd-crypt');
  const registry = registryOption(config);
  const schedule = config.schedule ?? null;
  const wanted: RenderedUnit[] =
    schedule && facts.systemdRunning
      ? renderScheduleUnits({ cryptPath: config.crypt.path, schedule, bin, registry, stateDirs: [stateDirFor(config)], prometheus: schedule.prometheus ?? null, scope: owner ? 'user' : 'system' })
      : [];
  const steps: InitStep[] = [];
  const keep = new Set(wanted.map((u) => u.name));
  const staleSystem = (facts.scheduleUnits ?? []).filter((n) => owner || !keep.has(n));
  const staleUser = (facts.userScheduleUnits ?? []).filter((n) => !owner || !keep.has(n));
  // The owner of a system crypt is still a user: their manager is reached the same way.
  const userOf: UnitOwner = { name: config.crypt.user, uid: config.crypt.uid, gid: config.crypt.gid };
  for (const unit of timersFirst(staleSystem)) steps.push({ kind: 'remove-unit', path: path.join(systemDir, unit), unit, systemd: facts.systemdRunning });
  for (const unit of timersFirst(staleUser)) steps.push({ kind: 'remove-unit', path: path.join(userDir, unit), unit, systemd: facts.systemdRunning, user: userOf });
  const scope = owner ? { user: owner } : {};
  for (const u of wanted) steps.push({ kind: 'write-unit', path: path.join(unitDir, u.name), unit: u.name, content: u.content, ...scope });
  for (const u of wanted.filter((x) => x.name.endsWith('.timer'))) steps.push({ kind: 'enable-timer', unit: u.name, ...scope });
  if (schedule && !facts.systemdRunning) {
    // cron has no PATH or LYCHD_CRYPT_REGISTRY of ours: the full path, the crypt and a registry that is not the default.
    const f = { installed: bin, crypt: config.crypt.path, registry };
    const as = owner?.name ?? 'root';
    const lines = [
      cronLine(schedule.calendar, commandArgv(f, '--wait', '600', 'snapshot', '--scheduled'), as) ?? `# no cron form for "${schedule.calendar}": pick an equivalent time`,
      ...(schedule.verify !== false ? [cronLine(schedule.verify, commandArgv(f, '--wait', '600', 'verify', '--newest'), as) ?? `# no cron form for "${schedule.verify}"`] : []),
    ];
    notes.push(`systemd is not running, so no timer will be installed. The equivalent /etc/cron.d/lychd-crypt lines:\n${lines.map((l) => `  ${l}`).join('\n')}`);
  }
  return steps;
}
