// init's steps for the scheduled runs (pure): write the units the answers ask for, enable their timers,
// remove the ones they no longer ask for. Re-running init with a changed or removed `schedule:` converges.
// Without systemd the units are not written; the notes carry the equivalent cron lines instead.
import path from 'node:path';
import type { Config } from '../config/config.js';
import type { HostFacts } from '../detect/facts.js';
import type { Step } from '../plan/steps.js';
import { stateDirFor } from '../crypt/paths.js';
import { cronLine } from './cron.js';
import { renderScheduleUnits, type RenderedUnit } from './render.js';


export function scheduleSteps(facts: Pick<HostFacts, 'systemdRunning' | 'scheduleUnits'>, config: Config, notes: string[]): Step[] {
  const unitDir = config.persist.unitDir;
  const bin = path.join(config.install.binDir, 'lychd-crypt');
  const schedule = config.schedule ?? null;
  const wanted: RenderedUnit[] =
    schedule && facts.systemdRunning
      ? renderScheduleUnits({ cryptPath: config.crypt.path, schedule, bin, stateDirs: [stateDirFor(config)], prometheus: schedule.prometheus ?? null })
      : [];
  const steps: Step[] = [];
  const keep = new Set(wanted.map((u) => u.name));
  // Timers go before their services, so nothing starts a service that is about to disappear.
  const stale = (facts.scheduleUnits ?? []).filter((n) => !keep.has(n)).sort((a, b) => Number(b.endsWith('.timer')) - Number(a.endsWith('.timer')));
  for (const unit of stale) steps.push({ kind: 'remove-unit', path: path.join(unitDir, unit), unit, systemd: facts.systemdRunning });
  for (const u of wanted) steps.push({ kind: 'write-unit', path: path.join(unitDir, u.name), unit: u.name, content: u.content });
  for (const u of wanted.filter((x) => x.name.endsWith('.timer'))) steps.push({ kind: 'enable-timer', unit: u.name });
  if (schedule && !facts.systemdRunning) {
    const crypt = config.crypt.path;
    const lines = [
      cronLine(schedule.calendar, [bin, '--crypt', crypt, '--wait', '600', 'snapshot', '--scheduled']) ?? `# no cron form for "${schedule.calendar}": pick an equivalent time`,
      ...(schedule.verify !== false ? [cronLine(schedule.verify, [bin, '--crypt', crypt, '--wait', '600', 'verify', '--newest']) ?? `# no cron form for "${schedule.verify}"`] : []),
    ];
    notes.push(`systemd is not running, so no timer was installed. The equivalent /etc/cron.d/lychd-crypt lines:\n${lines.map((l) => `  ${l}`).join('\n')}`);
  }
  return steps;
}
