// The interactive questions of `init`: shows what was detected, proposes a method with its reason and
// asks only what matters for it. Returns answers (the same shape as an answers file); it plans nothing.
import path from 'node:path';
import { MIN_IMAGE_BYTES, type AnswersInput } from '../../install/answers/schema.js';
import { DEFAULTS, defaultImage, defaultPersistVia } from '../../install/answers/defaults.js';
import { approxSize, parseSize } from '../../model/units.js';
import type { HostFacts } from '../../install/detect/facts.js';
import type { Config } from '../../model/config.js';
import { describeSignatures } from '../../install/detect/signatures.js';
import { proposeImageSize, proposeMethod } from '../../install/propose.js';
import { systemDirRefusal } from '../../install/system-dirs.js';
import { freeSpaceFor } from '../../install/detect/probes.js';
import { askPostgres } from './ask-postgres.js';
import { askWalDir } from './ask-wal.js';
import { askSelect, askText, say, type Choice, type PromptIo } from './prompts.js';

type Method = 'native' | 'loopback' | 'partition';

const absolute = (what: string) => (v: string) => (v.startsWith('/') ? undefined : `${what} must be an absolute path (starting with /)`);

/** The crypt path: asked first, because everything else is detected relative to it. `~` is the target user's home. */
export async function askCryptPath(facts: HostFacts, io: PromptIo = {}): Promise<string> {
  const expand = (v: string) => (v === '~' || v.startsWith('~/') ? path.join(facts.user.home, v.slice(1)) : v);
  const answer = await askText(`Where should the crypt live? (for ${facts.user.name})`, {
    ...io,
    defaultValue: facts.cryptPath,
    // Refused here, at the question, rather than after every other answer.
    validate: (v) => {
      const p = expand(v);
      const relative = absolute('The crypt path')(p);
      if (relative) return relative;
      const system = systemDirRefusal(path.resolve(p), facts.user.home);
      return system && `${system}: choose a dedicated directory, e.g. ${path.join(facts.user.home, '.local/share/lychd')}`;
    },
  });
  return path.resolve(expand(answer));
}

export async function askInitAnswers(facts: HostFacts, base: AnswersInput, io: PromptIo = {}): Promise<AnswersInput> {
  const out: AnswersInput = { ...base, version: 1, crypt: { ...base.crypt, path: facts.cryptPath } };
  const known = facts.existingConfig;
  if (known) return askRegistered(facts, known, out, io);
  let proposal = proposeMethod(facts);
  if (proposal.method === 'partition') {
    // An empty partition may be reserved for something else: formatting it is the user's pick, never
    // the preselected answer. Loopback stays the default; the partition is named as the faster option.
    say.info(`Also possible: a dedicated partition, because ${proposal.reason}`, io);
    proposal = { method: 'loopback', reason: 'a Btrfs image file needs no repartitioning and formats nothing that exists' };
  }
  say.info(`Proposed: ${proposal.method}, because ${proposal.reason}`, io);
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
  if (method !== 'native') out.persist = await askPersist(facts, base, io);
  out.postgres = await askPostgres(facts, base.postgres, io);
  if (method === 'loopback') out.postgres = await askWalDir(facts, out.postgres, undefined, io);
  return out;
}

/**
 * A registered crypt: its method, image or device stay (init does not move a crypt); every other question
 * is asked with the registered value as its answer, and everything not asked (retention, schedule, hooks,
 * the registry) is kept as registered — `base` is the registry entry's answers (init-flow.ts).
 */
async function askRegistered(facts: HostFacts, known: Config, base: AnswersInput, io: PromptIo): Promise<AnswersInput> {
  const out: AnswersInput = { ...base, method: known.method };
  const what = known.method === 'loopback' ? ` on ${known.loopback!.image}` : known.method === 'partition' ? ` on ${known.partition!.device}` : '';
  say.info(`${facts.cryptPath} is the registered crypt "${known.crypt.name}" (method ${known.method}${what}): each question starts from its registered value; init changes only what you change`, io);
  if (known.method === 'loopback') out.loopback = { image: known.loopback!.image, size: await askImageSize(facts, base, known.loopback!.image, io) };
  if (known.method !== 'native') out.persist = await askPersist(facts, base, io);
  out.postgres = await askPostgres(facts, base.postgres, io);
  if (known.method === 'loopback') out.postgres = await askWalDir(facts, out.postgres, known.postgres?.walDir ?? undefined, io);
  return out;
}

async function askPersist(facts: HostFacts, base: AnswersInput, io: PromptIo): Promise<AnswersInput['persist']> {
  const via = await askSelect(
    'How should the mount be made permanent?',
    [
      { value: 'systemd', label: 'systemd mount unit', hint: facts.systemdRunning ? 'enabled now' : 'written; systemd is not running, so init mounts directly' },
      { value: 'fstab', label: 'line in fstab', hint: base.persist?.fstab ?? DEFAULTS['persist.fstab'] },
      { value: 'none', label: 'not at all', hint: 'mount it yourself after a reboot (lychd-crypt repair does)' },
    ],
    { ...io, initialValue: base.persist?.via ?? defaultPersistVia(facts.systemdRunning) },
  );
  return { ...base.persist, via };
}

async function askLoopback(facts: HostFacts, base: AnswersInput, io: PromptIo): Promise<AnswersInput['loopback']> {
  const image = await askText('Image file', {
    ...io,
    // The crypt's own image (<name>.img, as detection proposes it), never a shared crypt.img.
    defaultValue: base.loopback?.image ?? facts.image?.path ?? defaultImage(facts.registry.name),
    validate: (v) => absolute('The image')(v) ?? (path.resolve(v).startsWith(`${facts.cryptPath}/`) ? 'The image cannot live inside the crypt it holds' : undefined),
  });
  const resolved = path.resolve(image);
  return { image: resolved, size: await askImageSize(facts, base, resolved, io) };
}

/** The image's size, checked against the free space where it goes; a registered image only grows. */
async function askImageSize(facts: HostFacts, base: AnswersInput, image: string, io: PromptIo): Promise<string> {
  // Free space where this image goes (measured again when the user named another place for it).
  const host = image === facts.image?.path && facts.imageHost ? facts.imageHost : await freeSpaceFor(image).catch(() => null);
  const existing = image === facts.image?.path && facts.image.exists ? facts.image.sizeBytes : 0;
  const room = host ? host.freeBytes + existing : undefined;
  const free = host ? `, ${approxSize(host.freeBytes)} free on ${host.path}` : '';
  return askText(`Image size (sparse: it takes space as the crypt fills${free})`, {
    ...io,
    defaultValue: base.loopback?.size !== undefined ? String(base.loopback.size) : proposeImageSize(room),
    validate: (v) => {
      const bytes = parseSize(v);
      if (bytes === undefined) return 'Expected a size like 20G or 512M';
      if (bytes < MIN_IMAGE_BYTES) return 'At least 128M: mkfs.btrfs needs about 114M';
      if (facts.existingConfig && existing && bytes < existing) return `The image is ${approxSize(existing)} already: it can grow, not shrink`;
      if (host && room !== undefined && bytes > room) return `${v} does not fit: ${host.path} has ${approxSize(host.freeBytes)} free; try ${proposeImageSize(room)}`;
      return undefined;
    },
  });
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
