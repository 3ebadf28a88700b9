// Persistence steps: one fstab line or one systemd unit for the mount point — never both.
import path from 'node:path';
import type { Config } from '../../model/config.js';
import { cryptLayout } from '../../base/crypt/paths.js';
import type { HostFacts } from '../detect/facts.js';
import { renderFstabLine, renderMountUnit, unitNameForPath, type MountSpec } from '../render/index.js';
import type { InitStep } from '../../model/steps.js';

export function persistSteps(facts: HostFacts, config: Config, spec: MountSpec, notes: string[]): InitStep[] {
  const steps: InitStep[] = [];
  const { via, fstab, unitDir } = config.persist;
  const unit = unitNameForPath(spec.where);
  const unitPath = path.join(unitDir, unit);
  const reload = facts.systemdRunning;
  // Switching persistence removes the other definition first.
  if (via !== 'fstab' && facts.persisted.fstabLines.some((l) => l.tagged)) steps.push({ kind: 'remove-fstab-line', file: fstab, where: spec.where, reload });
  if (via !== 'systemd' && facts.persisted.unitExists) steps.push({ kind: 'remove-mount-unit', path: unitPath, unit, systemd: facts.systemdRunning });
  if (via === 'fstab') {
    steps.push({ kind: 'write-fstab-line', file: fstab, spec, line: renderFstabLine(spec), reload });
  } else if (via === 'systemd') {
    steps.push({ kind: 'write-mount-unit', path: unitPath, unit, content: renderMountUnit(spec), reload });
    if (facts.systemdRunning) steps.push({ kind: 'enable-mount-unit', unit, path: unitPath, start: spec });
    else notes.push(`systemd is not running: ${unit} will be written but not enabled, and the crypt mounted directly. Run \`systemctl enable ${unit}\` once systemd runs.`);
  } else {
    notes.push(`persist.via is none: the crypt will be mounted now but not at boot; the mount record ${cryptLayout(spec.where).mountRecord} says how to mount it.`);
  }
  return steps;
}
