// Unit names of a crypt's scheduled runs: one pair per crypt, named after its path as systemd escapes it
// (`lychd-crypt-snapshot-home-alice-.local-share-lychd.timer`), so two crypts never share a timer.
import { escapeSystemdPath } from './unit-name.js';

export type ScheduledJob = 'snapshot' | 'verify' | 'replicate';

export function unitBase(job: ScheduledJob, cryptPath: string): string {
  return `lychd-crypt-${job}-${escapeSystemdPath(cryptPath)}`;
}

export function timerName(job: ScheduledJob, cryptPath: string): string {
  return `${unitBase(job, cryptPath)}.timer`;
}

export function serviceName(job: ScheduledJob, cryptPath: string): string {
  return `${unitBase(job, cryptPath)}.service`;
}

/** The .path unit that starts root's replication when a rootless crypt's owner asks for one. */
export function pathUnitName(job: ScheduledJob, cryptPath: string): string {
  return `${unitBase(job, cryptPath)}.path`;
}
