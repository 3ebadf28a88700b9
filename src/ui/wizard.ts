// The interactive questions of `init`: shows what was detected, proposes a method with its reason and
// asks only what matters for it. Returns answers (the same shape as an answers file); it plans nothing.
import * as p from '@clack/prompts';
import path from 'node:path';
import { MIN_IMAGE_BYTES, type AnswersInput } from '../config/answers.js';
import { DEFAULT_IMAGE_DIR } from '../config/config.js';
import { approxSize, parseSize } from '../config/size.js';
import type { HostFacts } from '../detect/facts.js';
import { describeSignatures } from '../detect/signatures.js';
import { proposeMethod } from '../init/propose.js';
import { askConfirm, askSelect, askText, type Choice, type PromptIo } from './prompts.js';

type Method = 'native' | 'loopback' | 'partition';
type Postgres = NonNullable<AnswersInput['postgres']>;
type Service = NonNullable<Postgres['service']>;

const absolute = (what: string) => (v: string) => (v.startsWith('/') ? undefined : `${what} must be an absolute path (starting with /)`);

/** The crypt path: asked first, because everything else is detected relative to it. */
export async function askCryptPath(facts: HostFacts, io: PromptIo = {}): Promise<string> {
  const answer = await askText(`Where should the crypt live? (for ${facts.user.name})`, { ...io, defaultValue: facts.cryptPath, validate: absolute('The crypt path') });
  return path.resolve(answer);
}

export async function askInitAnswers(facts: HostFacts, base: AnswersInput, io: PromptIo = {}): Promise<AnswersInput> {
  const out: AnswersInput = { ...base, version: 1, crypt: { ...base.crypt, path: facts.cryptPath } };
  const known = facts.existingConfig ?? facts.mountRecord;
  if (known) {
    // An existing crypt keeps its method and settings; init checks it and converges (or mounts it again).
    p.log.info(`${facts.cryptPath} is already a crypt (method ${known.method}): init will check it and fix what differs`, io);
    return { ...out, method: 'auto' };
  }
  let proposal = proposeMethod(facts);
  if (proposal.method === 'partition') {
    // An empty partition may be reserved for something else: formatting it is the user's pick, never
    // the preselected answer. Loopback stays the default; the partition is named as the faster option.
    p.log.info(`Also possible: a dedicated partition, because ${proposal.reason}`, io);
    proposal = { method: 'loopback', reason: 'a Btrfs image file needs no repartitioning and formats nothing that exists' };
  }
  p.log.info(`Proposed: ${proposal.method}, because ${proposal.reason}`, io);
  const onBtrfs = facts.hostFs.fstype === 'btrfs';
  const choices: Choice<Method>[] = [
    ...(onBtrfs ? [{ value: 'native' as const, label: 'native', hint: 'in place on the Btrfs host: no image, no partition' }] : []),
    { value: 'loopback', label: 'loopback image', hint: 'a Btrfs image file, mounted at the crypt path; no repartitioning' },
    { value: 'partition', label: 'dedicated partition', hint: 'format a partition with Btrfs (fastest; the partition is erased)' },
  ];
  const asked = base.method && base.method !== 'auto' ? base.method : proposal.method;
  const initialValue = choices.some((c) => c.value === asked) ? asked : proposal.method;
  const method = await askSelect('How should the crypt get its Btrfs filesystem?', choices, { ...io, initialValue });
  out.method = method;
  if (method === 'loopback') out.loopback = await askLoopback(facts, base, io);
  else delete out.loopback;
  if (method === 'partition') out.partition = await askPartition(facts, base, io);
  else delete out.partition;
  if (method !== 'native') {
    const via = await askSelect(
      'How should the mount be made permanent?',
      [
        { value: 'systemd', label: 'systemd mount unit', hint: facts.systemdRunning ? 'enabled now' : 'written; systemd is not running, so init mounts directly' },
        { value: 'fstab', label: 'line in fstab', hint: base.persist?.fstab ?? '/etc/fstab' },
        { value: 'none', label: 'not at all', hint: 'mount it yourself after a reboot (lychd-crypt repair does)' },
      ],
      { ...io, initialValue: base.persist?.via ?? (facts.systemdRunning ? 'systemd' : 'fstab') },
    );
    out.persist = { ...base.persist, via };
  }
  out.postgres = await askPostgres(facts, base.postgres, io);
  return out;
}

async function askLoopback(facts: HostFacts, base: AnswersInput, io: PromptIo): Promise<AnswersInput['loopback']> {
  const image = await askText('Image file', {
    ...io,
    defaultValue: base.loopback?.image ?? facts.image?.path ?? path.join(DEFAULT_IMAGE_DIR, 'crypt.img'),
    validate: (v) => absolute('The image')(v) ?? (path.resolve(v).startsWith(`${facts.cryptPath}/`) ? 'The image cannot live inside the crypt it holds' : undefined),
  });
  const free = facts.imageHost ? `, ${approxSize(facts.imageHost.freeBytes)} free on ${facts.imageHost.path}` : '';
  const size = await askText(`Image size (sparse: it takes space as the crypt fills${free})`, {
    ...io,
    defaultValue: base.loopback?.size !== undefined ? String(base.loopback.size) : '20G',
    validate: (v) => {
      const bytes = parseSize(v);
      if (bytes === undefined) return 'Expected a size like 20G or 512M';
      return bytes < MIN_IMAGE_BYTES ? 'At least 128M: mkfs.btrfs needs about 114M' : undefined;
    },
  });
  return { image: path.resolve(image), size };
}

const OTHER = '\u0000other';

async function askPartition(facts: HostFacts, base: AnswersInput, io: PromptIo): Promise<AnswersInput['partition']> {
  let device: string = OTHER;
  if (facts.candidateDevices.length) {
    const choices: Choice<string>[] = facts.candidateDevices.map((d) => ({
      value: d.path,
      label: d.path,
      hint: `${d.description}; ${d.signatures.length ? `holds ${describeSignatures(d.signatures)}: it will be ERASED` : 'empty'}`,
    }));
    choices.push({ value: OTHER, label: 'another device…', hint: 'type its path' });
    const initial = base.partition?.device && choices.some((c) => c.value === base.partition!.device) ? base.partition.device : undefined;
    device = await askSelect('Which partition should hold the crypt?', choices, { ...io, initialValue: initial });
  }
  if (device === OTHER) {
    device = await askText('Device to format (e.g. /dev/disk/by-id/…-part3)', { ...io, defaultValue: base.partition?.device, validate: absolute('The device') });
  }
  // wipe stays as given: consent to erase a device holding data is asked later, by typing its path.
  return { device, wipe: base.partition?.wipe ?? false };
}

async function askPostgres(facts: HostFacts, base: Postgres | undefined, io: PromptIo): Promise<Postgres> {
  const enabled = await askConfirm('Will the crypt hold a PostgreSQL data directory (active/postgres)?', {
    ...io,
    initialValue: base?.enabled ?? facts.postgresUser !== null,
  });
  if (!enabled) return { enabled: false };
  const osUserText = await askText('PostgreSQL OS user (owns PGDATA; a name or a numeric uid)', {
    ...io,
    defaultValue: String(base?.osUser ?? 'postgres'),
    validate: (v) => (v.trim() ? undefined : 'A user name or uid is needed'),
  });
  const osUser = /^\d+$/.test(osUserText) ? Number(osUserText) : osUserText;
  const service = await askService(base?.service, io);
  const conn = { host: '/var/run/postgresql', port: 5432, user: 'postgres', database: 'postgres', ...base?.connection };
  const keep = await askConfirm(`Connect through ${conn.host}, port ${conn.port}, as ${conn.user} (database ${conn.database})?`, { ...io, initialValue: true });
  if (!keep) {
    conn.host = await askText('Socket directory or host', { ...io, defaultValue: conn.host });
    const port = await askText('Port', {
      ...io,
      defaultValue: String(conn.port),
      validate: (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65535 ? undefined : 'A port from 1 to 65535'),
    });
    conn.port = Number(port);
  }
  return { ...base, enabled: true, osUser, service, connection: conn };
}

async function askService(base: Service | undefined, io: PromptIo): Promise<Service> {
  type Kind = Service['kind'];
  const choices: Choice<Kind>[] = [
    { value: 'pg_ctl', label: 'pg_ctl', hint: 'lychd-crypt runs pg_ctl as the OS user' },
    { value: 'systemd', label: 'a systemd unit', hint: 'e.g. postgresql@15-main, or a rootless Podman Quadlet' },
    ...(base?.kind === 'command' ? [{ value: 'command' as const, label: 'the commands of the defaults file', hint: base.stop.join(' ') }] : []),
    { value: 'none', label: 'none', hint: 'rollback refuses while PostgreSQL runs' },
  ];
  const kind = await askSelect('How should a rollback stop and start PostgreSQL?', choices, { ...io, initialValue: base?.kind ?? 'pg_ctl' });
  if (kind === 'command' && base?.kind === 'command') return base;
  if (kind !== 'systemd') return { kind } as Service;
  const unit = await askText('The PostgreSQL systemd unit', {
    ...io,
    defaultValue: base?.kind === 'systemd' ? base.unit : 'postgresql.service',
    validate: (v) => (v.trim() ? undefined : 'A unit name is needed'),
  });
  const user = await askConfirm('Is it a unit of the crypt user’s own systemd (systemctl --user)?', {
    ...io,
    initialValue: base?.kind === 'systemd' ? Boolean(base.user) : false,
  });
  return { kind: 'systemd', unit, user };
}
