// Renders a crypt's scheduled units from templates/ (pure): the snapshot service + timer, and the verify
// service + timer when schedule.verify is set. Every value is escaped for the place it lands in: %
// specifiers everywhere, quoting in lists, and $ in command lines (systemd expands $VAR there).
import snapshotService from '../../../templates/lychd-crypt-snapshot.service';
import snapshotTimer from '../../../templates/lychd-crypt-snapshot.timer';
import verifyService from '../../../templates/lychd-crypt-verify.service';
import verifyTimer from '../../../templates/lychd-crypt-verify.timer';
import { assertUnitValue, escapeSpecifiers, quoteListWord } from './mount-unit.js';
import { serviceName, timerName, type ScheduledJob } from './schedule-names.js';
import type { ScheduleConfig } from '../../model/settings.js';

export interface ScheduleSpec {
  cryptPath: string;
  schedule: ScheduleConfig;
  /** The installed runtime command. */
  bin: string;
  /** The registry when it is not the default: a unit has no LYCHD_CRYPT_REGISTRY, so it is passed as --registry. */
  registry?: string | null;
  /** Writable beyond the crypt (tool state); a missing one is tolerated (`-` prefix). */
  stateDirs: string[];
  /** node_exporter textfile refreshed after each run, or null. */
  prometheus: string | null;
  /** user: units of a rootless crypt's owner, run by its user manager (default system). */
  scope?: 'system' | 'user';
}

/**
 * Settings a user manager cannot apply: they need a mount or UTS namespace, or drop capabilities from the
 * bounding set — without PrivateUsers= (user namespaces, not available on every host) the service fails
 * at start (218/CAPABILITIES, 226/NAMESPACE). A user unit runs as the owner, with no capabilities: the
 * kernel's permission checks already confine it to what the owner may write. The seccomp-based settings
 * (NoNewPrivileges and the Restrict*, LockPersonality, SystemCallArchitectures) stay.
 */
const SYSTEM_ONLY = new Set([
  'ProtectSystem',
  'ReadWritePaths',
  'PrivateTmp',
  'ProtectKernelTunables',
  'ProtectKernelModules',
  'ProtectKernelLogs',
  'ProtectControlGroups',
  'ProtectClock',
  'ProtectHostname',
]);
const SYSTEM_COMMENT = /^# Hardening: .*\n/m;
const USER_COMMENT = '# Hardening a user manager can apply (it runs as the owner, without capabilities; see src/install/render/schedule-units.ts).\n';

function forUserManager(content: string): string {
  return content
    .split('\n')
    .filter((l) => !SYSTEM_ONLY.has(l.slice(0, l.indexOf('='))))
    .join('\n')
    .replace(SYSTEM_COMMENT, USER_COMMENT);
}

export interface RenderedUnit {
  name: string;
  content: string;
}

/** One word of ExecStart=: quoted, with \ and " escaped, % and $ doubled. */
export function execWord(v: string): string {
  assertUnitValue('ExecStart', v);
  return `"${escapeSpecifiers(v).replace(/\$/g, '$$$$').replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function fill(template: string, values: Record<string, string>): string {
  // A placeholder alone on its line with no value (an optional setting) takes its line with it.
  return template
    .replace(/^@([A-Z_]+)@\n/gm, (m, key: string) => (values[key] === '' ? '' : m))
    .replace(/@([A-Z_]+)@/g, (m, key: string) => {
      if (!(key in values)) throw new Error(`template placeholder ${m} has no value`);
      return values[key]!;
    });
}

/** PrivateTmp= gives the service an empty /tmp and /var/tmp: a path the run needs there would vanish (226/NAMESPACE). */
const TMP_DIRS = ['/tmp', '/var/tmp'];
export function underTmp(p: string): boolean {
  return TMP_DIRS.some((d) => p === d || p.startsWith(`${d}/`));
}

export function renderScheduleUnits(spec: ScheduleSpec): RenderedUnit[] {
  const used = [spec.cryptPath, spec.bin, ...spec.stateDirs, ...(spec.prometheus ? [spec.prometheus] : []), ...(spec.registry ? [spec.registry] : [])];
  for (const p of used) assertUnitValue('path', p);
  const crypt = spec.cryptPath;
  const writable = [quoteListWord(crypt), ...spec.stateDirs.map((d) => quoteListWord(`-${d}`))];
  if (spec.prometheus) writable.push(quoteListWord(`-${spec.prometheus.replace(/\/[^/]*$/, '') || '/'}`));
  const common0 = { CRYPT_ARG: `${execWord(crypt)}${spec.registry ? ` --registry ${execWord(spec.registry)}` : ''}` };
  const common = {
    CRYPT: escapeSpecifiers(crypt),
    CRYPT_LIST: quoteListWord(crypt),
    CRYPT_ARG: common0.CRYPT_ARG,
    BIN: execWord(spec.bin),
    WRITABLE: writable.join(' '),
    PRIVATE_TMP: used.some(underTmp) ? '' : 'PrivateTmp=yes',
    // ExecStopPost runs after success and failure alike, so the textfile also reports a failed run.
    PROMETHEUS: spec.prometheus ? `ExecStopPost=${execWord(spec.bin)} --crypt ${common0.CRYPT_ARG} status --prometheus ${execWord(spec.prometheus)}` : '',
  };
  const units: RenderedUnit[] = [];
  const pair = (job: ScheduledJob, service: string, timer: string, calendar: string, delay: string): void => {
    const content = fill(service, common);
    units.push({ name: serviceName(job, crypt), content: spec.scope === 'user' ? forUserManager(content) : content });
    units.push({ name: timerName(job, crypt), content: fill(timer, { ...common, CALENDAR: calendar, DELAY: delay }) });
  };
  pair('snapshot', snapshotService, snapshotTimer, spec.schedule.calendar, '5min');
  if (spec.schedule.verify !== false) pair('verify', verifyService, verifyTimer, spec.schedule.verify, '15min');
  return units;
}
