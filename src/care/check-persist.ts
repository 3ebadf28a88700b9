// persist.*: the mount is persisted as configured — one fstab line equal to the rendered one, or one unit
// named by systemd's escaping with the rendered content that `systemd-analyze verify` accepts — never both.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { exists } from '../base/sys/fs.js';
import type { Runner } from '../base/runner.js';
import { FSTAB_TAG, parseFstab, renderFstabLine, renderMountUnit } from '../install/render/index.js';
import type { DoctorEnv, MountView } from './doctor-env.js';
import { cannotCheck, fixable, manual, ok, type Check } from './findings.js';

async function verifyUnit(runner: Runner, unitPath: string): Promise<string | null> {
  const r = await runner.run(['systemd-analyze', 'verify', unitPath], { allowFailure: true }).catch(() => null);
  if (!r) return null; // not installed: content equality has to do
  const out = (r.stdout + r.stderr).trim();
  return r.exitCode === 0 && out === '' ? null : out.split('\n')[0] || `exit ${r.exitCode}`;
}

/** systemd: it runs (it generates mount units from fstab), so a changed fstab is followed by daemon-reload. */
async function checkFstab(view: MountView, systemd: boolean): Promise<Check> {
  const id = 'persist.fstab';
  const file = view.persist.fstab;
  if (!file) return cannotCheck(id, 'the fstab file is not known while the crypt is unmounted');
  const text = await readFile(file, 'utf8').catch(() => '');
  const lines = text.split('\n');
  const entries = parseFstab(text).filter((e) => e.where === view.spec.where);
  const ours = entries.filter((e) => e.options.includes(FSTAB_TAG));
  const foreign = entries.filter((e) => !e.options.includes(FSTAB_TAG));
  const want = renderFstabLine(view.spec);
  const where = view.spec.where;
  if (foreign.length) {
    return manual(id, `${file}:${foreign[0]!.line} mounts ${where} but was not written by lychd-crypt`, `remove that line from ${file}; repair then writes its own`);
  }
  if (view.persist.via !== 'fstab') {
    if (!ours.length) return ok(id, `no fstab line for ${where} (persisted via ${view.persist.via})`);
    return fixable(id, `${file} has a line for ${where} although the mount is persisted via ${view.persist.via}`, `remove our line from ${file} (backup kept)`, [{ kind: 'remove-fstab-line', file, where, reload: systemd }]);
  }
  const step = [{ kind: 'write-fstab-line' as const, file, spec: view.spec, line: want, reload: systemd }];
  if (!ours.length) return fixable(id, `${file} has no line for ${where}`, `add the line to ${file} (atomically, backup kept)`, step);
  if (ours.length > 1) return fixable(id, `${file} has ${ours.length} lines for ${where} (lines ${ours.map((e) => e.line).join(', ')})`, `replace them by one line (atomically, backup kept)`, step);
  if (lines[ours[0]!.line - 1]!.trim() !== want) return fixable(id, `${file}:${ours[0]!.line} differs from the configured mount`, `rewrite it as: ${want}`, step);
  return ok(id, `${file}:${ours[0]!.line} mounts ${where} as configured`);
}

/** Unit files in the unit directory that mount the crypt path (by Where=), whatever their name. */
async function unitsFor(dir: string, where: string): Promise<string[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.mount'));
  const found: string[] = [];
  for (const n of names) {
    const text = await readFile(path.join(dir, n), 'utf8').catch(() => '');
    if (text.split('\n').some((l) => l.trim() === `Where=${where.replace(/%/g, '%%')}`)) found.push(n);
  }
  return found;
}

async function checkUnit(env: DoctorEnv, view: MountView): Promise<Check> {
  const id = 'persist.unit';
  const unitPath = view.persist.unitPath;
  if (!unitPath) return cannotCheck(id, 'the unit directory is not known while the crypt is unmounted');
  const dir = path.dirname(unitPath);
  const where = view.spec.where;
  const misnamed = (await unitsFor(dir, where)).filter((n) => n !== view.persist.unit);
  const removeMisnamed = misnamed.map((n) => ({ kind: 'remove-mount-unit' as const, path: path.join(dir, n), unit: n, systemd: env.systemd, backup: true }));
  const present = await exists(unitPath);
  if (view.persist.via !== 'systemd') {
    const stale = [...(present ? [{ kind: 'remove-mount-unit' as const, path: unitPath, unit: view.persist.unit, systemd: env.systemd, backup: true }] : []), ...removeMisnamed];
    if (!stale.length) return ok(id, `no mount unit for ${where} (persisted via ${view.persist.via})`);
    return fixable(id, `${stale.map((s) => s.path).join(', ')} mounts ${where} although the mount is persisted via ${view.persist.via}`, 'remove the unit (backup kept)', stale);
  }
  const want = renderMountUnit(view.spec);
  const write = { kind: 'write-mount-unit' as const, path: unitPath, unit: view.persist.unit, content: want, reload: env.systemd, backup: true };
  const current = present ? await readFile(unitPath, 'utf8') : null;
  const findings: string[] = [];
  if (misnamed.length) findings.push(`${misnamed.join(', ')} in ${dir} mounts ${where} but systemd requires the name ${view.persist.unit}`);
  if (current === null) findings.push(`the mount unit ${unitPath} is missing`);
  else if (current !== want) findings.push(`${unitPath} differs from the configured mount`);
  if (findings.length) {
    const steps = [...removeMisnamed, ...(current === want ? [] : [write])];
    return fixable(id, findings.join('; '), `${misnamed.length ? `remove ${misnamed.join(', ')} and ` : ''}${current === null ? 'write' : current === want ? 'keep' : 'rewrite'} ${view.persist.unit} (backups kept)`, steps);
  }
  const err = await verifyUnit(env.runner, unitPath);
  if (err) return manual(id, `systemd-analyze verify rejects ${unitPath}: ${err}`, 'see `systemd-analyze verify` for the cause');
  if (env.systemd) {
    const r = await env.runner.run(['systemctl', 'is-enabled', view.persist.unit], { allowFailure: true });
    if (r.stdout.trim() !== 'enabled') {
      return fixable(id, `${view.persist.unit} is not enabled (${r.stdout.trim() || `exit ${r.exitCode}`}): the crypt is not mounted at boot`, `enable ${view.persist.unit}`, [{ kind: 'enable-mount-unit', path: unitPath, unit: view.persist.unit }]);
    }
  }
  return ok(id, `${unitPath} is the configured unit and verifies`);
}

export async function checkPersist(env: DoctorEnv, view: MountView): Promise<Check[]> {
  return [await checkFstab(view, env.systemd), await checkUnit(env, view)];
}
