// Root's units for a crypt's replication (pure), always system units: sending needs root, whatever the
// crypt's profile. The service runs `lychd-crypt replicate`; the timer runs it on its own calendar (a
// `replicate.schedule` calendar, or daily as the safety net of a rootless crypt); the .path unit starts it
// when a rootless crypt's owner writes the request file (their scheduled snapshot, or `lychd-crypt
// replicate`). Root never reads that file: a change of it is a nudge, not input.
import { assertUnitValue, escapeSpecifiers, quoteListWord } from './mount-unit.js';
import { execWord, type RenderedUnit } from './schedule-units.js';
import { pathUnitName, serviceName, timerName } from './schedule-names.js';

export interface ReplicateUnitsSpec {
  cryptPath: string;
  bin: string;
  calendar: string;
  /** A rootless crypt's request file (the owner's); null: no .path unit. */
  requestFile: string | null;
  /** What the run writes: root's state of the crypt, the crypt's lock directory, local target directories. */
  writable: string[];
  /** The registry when it is not the default (a unit has no LYCHD_CRYPT_REGISTRY): passed as --registry. */
  registry?: string | null;
}

export function renderReplicateUnits(spec: ReplicateUnitsSpec): RenderedUnit[] {
  for (const p of [spec.cryptPath, spec.bin, ...spec.writable, ...(spec.requestFile ? [spec.requestFile] : []), ...(spec.registry ? [spec.registry] : [])]) assertUnitValue('path', p);
  assertUnitValue('calendar', spec.calendar);
  const crypt = escapeSpecifiers(spec.cryptPath);
  const service = serviceName('replicate', spec.cryptPath);
  const units: RenderedUnit[] = [
    {
      name: service,
      content: [
        `# Installed by \`lychd-crypt init\` for the crypt at ${crypt} (answers: replicate:).`,
        '# Re-running init updates this file, or removes it when replicate: is gone. Do not edit: edit the answers.',
        '[Unit]',
        `Description=lychd-crypt: replicate the snapshots of ${crypt} to its targets`,
        'Documentation=man:lychd-crypt(1)',
        `RequiresMountsFor=${quoteListWord(spec.cryptPath)}`,
        'After=network-online.target',
        'Wants=network-online.target',
        // A request file touched in a loop must not run it back to back.
        'StartLimitIntervalSec=600',
        'StartLimitBurst=5',
        '',
        '[Service]',
        'Type=oneshot',
        `ExecStart=${execWord(spec.bin)} --crypt ${execWord(spec.cryptPath)}${spec.registry ? ` --registry ${execWord(spec.registry)}` : ''} --wait 600 replicate`,
        'Nice=10',
        'IOSchedulingClass=idle',
        'UMask=0077',
        '# Hardening: the file system is read-only except the tool\'s state and the local targets.',
        'ProtectSystem=strict',
        `ReadWritePaths=${spec.writable.map((w) => quoteListWord(`-${w}`)).join(' ')}`,
        'NoNewPrivileges=yes',
        'ProtectKernelTunables=yes',
        'ProtectKernelModules=yes',
        'ProtectControlGroups=yes',
        'RestrictRealtime=yes',
        'RestrictSUIDSGID=yes',
        'LockPersonality=yes',
        'SystemCallArchitectures=native',
        '',
      ].join('\n'),
    },
    {
      name: timerName('replicate', spec.cryptPath),
      content: [
        `# Installed by \`lychd-crypt init\` for the crypt at ${crypt} (answers: replicate.schedule).`,
        '[Unit]',
        `Description=lychd-crypt: replicate ${crypt} (${escapeSpecifiers(spec.calendar)})`,
        '',
        '[Timer]',
        `OnCalendar=${escapeSpecifiers(spec.calendar)}`,
        'Persistent=true',
        'RandomizedDelaySec=5min',
        'AccuracySec=1min',
        '',
        '[Install]',
        'WantedBy=timers.target',
        '',
      ].join('\n'),
    },
  ];
  if (spec.requestFile) {
    units.push({
      name: pathUnitName('replicate', spec.cryptPath),
      content: [
        `# Installed by \`lychd-crypt init\` for the rootless crypt at ${crypt}: its owner asks, root sends.`,
        '[Unit]',
        `Description=lychd-crypt: replication requested by the owner of ${crypt}`,
        '',
        '[Path]',
        `PathModified=${escapeSpecifiers(spec.requestFile)}`,
        `Unit=${service}`,
        '',
        '[Install]',
        'WantedBy=paths.target',
        '',
      ].join('\n'),
    });
  }
  return units;
}
