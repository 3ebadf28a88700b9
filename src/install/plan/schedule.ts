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
import { renderReplicateUnits } from '../render/replicate-units.js';
import { REPLICATE_REQUEST_FILE } from '../../model/replicate.js';
import { userUnitDir } from '../../base/systemctl.js';
import { commandArgv } from '../../base/output/hint.js';
import { DEFAULT_REGISTRY_DIR } from '../../base/registry/store.js';

/** The registry a scheduled run must be told (units and cron keep no environment of ours): undefined when the default. */
export const registryOption = (config: Pick<Config, 'registry'>): string | undefined =>
  path.resolve(config.registry.dir) === DEFAULT_REGISTRY_DIR ? undefined : config.registry.dir;

/** Local targets' parents: replication writes (or makes) the target directory there. */
function replicateDirs(config: Config): string[] {
  return (config.replicate?.targets ?? []).flatMap((t) => (t.url.kind === 'ssh' ? [] : [path.dirname(t.url.path)]));
}

/**
 * Root's replication units: a calendar of its own (`replicate.schedule: "*-*-* 03:00"`), or — a rootless
 * crypt, whose owner's snapshot cannot send — the .path unit the owner's request starts, with a daily
 * timer as the safety net. after-snapshot on a system crypt with a snapshot schedule needs none (the
 * snapshot timer's run sends); without one it gets the daily timer.
 */
function replicateUnits(config: Config): RenderedUnit[] {
  const r = config.replicate;
  if (!r?.targets.length || r.schedule === false) return [];
  const rootless = config.profile === 'rootless';
  if (sendsAfterSnapshot(config)) return [];
  const state = stateDirFor(config);
  return renderReplicateUnits({
    cryptPath: config.crypt.path,
    bin: path.join(config.install.binDir, 'lychd-crypt'),
    calendar: r.schedule === 'after-snapshot' ? 'daily' : r.schedule,
    requestFile: rootless ? path.join(state, REPLICATE_REQUEST_FILE) : null,
    writable: [...new Set([path.join(config.registry.state, config.crypt.name), state, ...replicateDirs(config)])],
    registry: registryOption(config),
  });
}

/** A system crypt's scheduled snapshot also sends (after-snapshot): root's run, no units of replication's own. */
function sendsAfterSnapshot(config: Config): boolean {
  return config.profile !== 'rootless' && !!config.schedule && config.replicate?.schedule === 'after-snapshot' && config.replicate.targets.length > 0;
}

/** Timers (and .path units) go before their services, so nothing starts a service that is about to disappear. */
function timersFirst(names: string[]): string[] {
  const trigger = (n: string): number => Number(!n.endsWith('.service'));
  return [...names].sort((a, b) => trigger(b) - trigger(a));
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
      ? renderScheduleUnits({ cryptPath: config.crypt.path, schedule, bin, registry, stateDirs: [stateDirFor(config), ...(sendsAfterSnapshot(config) ? replicateDirs(config) : [])], prometheus: schedule.prometheus ?? null, scope: owner ? 'user' : 'system' })
      : [];
  // Replication is root's on either profile: its units are system units (src/install/render/replicate-units.ts).
  const replicate = facts.systemdRunning ? replicateUnits(config) : [];
  const steps: InitStep[] = [];
  const keepSystem = new Set([...(owner ? [] : wanted.map((u) => u.name)), ...replicate.map((u) => u.name)]);
  const keepUser = new Set(owner ? wanted.map((u) => u.name) : []);
  const staleSystem = (facts.scheduleUnits ?? []).filter((n) => !keepSystem.has(n));
  const staleUser = (facts.userScheduleUnits ?? []).filter((n) => !keepUser.has(n));
  // The owner of a system crypt is still a user: their manager is reached the same way.
  const userOf: UnitOwner = { name: config.crypt.user, uid: config.crypt.uid, gid: config.crypt.gid };
  for (const unit of timersFirst(staleSystem)) steps.push({ kind: 'remove-unit', path: path.join(systemDir, unit), unit, systemd: facts.systemdRunning });
  for (const unit of timersFirst(staleUser)) steps.push({ kind: 'remove-unit', path: path.join(userDir, unit), unit, systemd: facts.systemdRunning, user: userOf });
  const scope = owner ? { user: owner } : {};
  for (const u of wanted) steps.push({ kind: 'write-unit', path: path.join(unitDir, u.name), unit: u.name, content: u.content, ...scope });
  for (const u of wanted.filter((x) => x.name.endsWith('.timer'))) steps.push({ kind: 'enable-timer', unit: u.name, ...scope });
  for (const u of replicate) steps.push({ kind: 'write-unit', path: path.join(systemDir, u.name), unit: u.name, content: u.content });
  for (const u of replicate.filter((x) => !x.name.endsWith('.service'))) steps.push({ kind: 'enable-timer', unit: u.name });
  const r = config.replicate;
  if (r?.targets.length && r.schedule !== false && !facts.systemdRunning && !sendsAfterSnapshot(config)) {
    const line = cronLine(r.schedule === 'after-snapshot' ? 'daily' : r.schedule, commandArgv({ installed: bin, crypt: config.crypt.path, registry }, '--wait', '600', 'replicate'), 'root');
    notes.push(`systemd is not running, so no replication timer will be installed. The equivalent /etc/cron.d/lychd-crypt line:\n  ${line ?? '# no cron form for this calendar: pick an equivalent time'}`);
  }
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
