// Methods A and B: make (or reuse) the Btrfs filesystem, migrate existing data, mount, persist, lay out.
import path from 'node:path';
import type { Config } from '../../model/config.js';
import { cryptLayout, stateDirFor } from '../../base/crypt/paths.js';
import type { HostFacts } from '../detect/facts.js';
import { mountRecordFor, renderMountRecord, type MountSpec } from '../render/index.js';
import { checkCryptMount, checkDevice, checkImage } from './checks.js';
import { activeSteps, backupPath, createDirs, cryptFsFor, cryptUser, dirsBelow, ROOT, userOwned } from './common.js';
import { persistSteps } from './persist.js';
import type { InitStep } from '../../model/steps.js';

/**
 * The filesystem is this crypt's from the moment it is made: its UUID (chosen at planning time) is recorded
 * before mkfs, so a run interrupted (a power cut) anywhere after finds it registered and goes on, and nobody
 * else's init can claim it. Recorded after mkfs, a cut between the two left a filesystem no crypt owned,
 * which the next run refused (found by the power-cut harness, test/powercut/init.test.ts).
 */
const provisional = (config: Config, uuid: string): InitStep => ({
  kind: 'register',
  dir: config.registry.dir,
  name: config.crypt.name,
  stateDir: stateDirFor(config),
  config,
  provisionalUuid: uuid,
});

/** The image (Method B) or device (Method A) and its filesystem. */
function filesystemSteps(facts: HostFacts, config: Config, notes: string[]): InitStep[] {
  const label = config.filesystem.label;
  if (config.method === 'partition') {
    const part = config.partition!;
    return checkDevice(facts, config).needsMkfs ? [provisional(config, part.uuid!), { kind: 'mkfs-btrfs', device: part.device, label, uuid: part.uuid!, wipe: part.wipe }] : [];
  }
  const img = config.loopback!;
  const { create, needsMkfs } = checkImage(facts, config);
  const steps: InitStep[] = [];
  if (create) {
    steps.push(...createDirs(path.dirname(img.image), facts.imageHost?.path ?? '/', () => ROOT));
    // On a Btrfs host the image itself must not be copy-on-write (a filesystem inside a CoW file fragments badly).
    steps.push({ kind: 'create-image', path: img.image, sizeBytes: img.sizeBytes, nocow: facts.imageHost?.fstype === 'btrfs', ...(img.preallocate ? { preallocate: true } : {}) });
  }
  if (needsMkfs) steps.push(provisional(config, facts.newUuid), { kind: 'mkfs-btrfs', device: img.image, label, uuid: facts.newUuid, wipe: false });
  return steps;
}

/**
 * Where a migration mounts the new filesystem: a directory of root's own (beside root's state), not beside
 * the crypt path, where the user owning the directories above could rename or swap them under root.
 */
export const migrationMountPoint = (config: Config): string => path.join(config.registry.state, `.${config.crypt.name}.migrate`);

/**
 * Existing data is never hidden under the mount: it is copied into active/ on a temporary mount while the
 * original stays in place; only then is the original renamed aside (kept as a backup) and replaced by an
 * empty directory. A crash anywhere leaves the original complete; the next run starts the copy again.
 * The copy runs as the crypt's user (it is their data) into active/ handed over as a descriptor.
 */
function migrationSteps(facts: HostFacts, config: Config, spec: MountSpec, entries: string[], notes: string[]): InitStep[] {
  const root = config.crypt.path;
  const tmp = migrationMountPoint(config);
  const fs = cryptFsFor(facts, config, tmp);
  const backup = backupPath(root, facts.now);
  notes.push(`existing data in ${root} will be copied into ${cryptLayout(root).active}; the original will be kept in ${backup}`);
  return [
    ...dirsBelow(path.dirname(config.registry.state), tmp, ROOT, 0o700),
    { kind: 'mount', spec: { ...spec, where: tmp } },
    ...activeSteps(fs, config),
    { kind: 'copy-data', from: root, entries, to: cryptLayout(tmp).active, marker: null, fs, as: cryptUser(config) },
    { kind: 'unmount', path: tmp },
    { kind: 'remove-dir', path: tmp },
    { kind: 'move-aside', from: root, to: backup, marker: null },
  ];
}

export function planMounted(facts: HostFacts, config: Config, spec: MountSpec, notes: string[]): InitStep[] {
  const root = config.crypt.path;
  const mounted = checkCryptMount(facts, config);
  const steps = filesystemSteps(facts, config, notes);
  // When the crypt is mounted, the entries seen at its path are the crypt's own.
  const migrate = !mounted && facts.cryptEntries.length > 0;
  if (!mounted) {
    steps.push(...createDirs(root, facts.existingAncestor, userOwned(config)));
    if (migrate) steps.push(...migrationSteps(facts, config, spec, facts.cryptEntries, notes));
  }
  // The record goes underneath the mount before mounting. On a re-run it is rewritten (through a bind mount
  // of the host fs) only when the configuration changed: it was written from the same config as config.json.
  const configChanged = JSON.stringify(facts.existingConfig) !== JSON.stringify(config);
  if (!mounted || configChanged) {
    steps.push({ kind: 'write-mount-record', path: cryptLayout(root).mountRecord, content: renderMountRecord(mountRecordFor(config)!) });
  }
  // With systemd running and a mount unit, the unit mounts the crypt (enable --now among the persist steps):
  // a direct mount would leave systemd with a mount it did not start and a unit that never proved it works.
  const byUnit = config.persist.via === 'systemd' && facts.systemdRunning;
  if (!byUnit) steps.push({ kind: 'mount', spec });
  else steps.push(...persistSteps(facts, config, spec, notes));
  const img = config.loopback;
  if (img && facts.image?.exists && img.sizeBytes > facts.image.sizeBytes && facts.image.signatures.some((s) => s.type === 'btrfs')) {
    steps.push({ kind: 'grow-image', path: img.image, sizeBytes: img.sizeBytes, mountPoint: root, ...(img.preallocate ? { preallocate: true } : {}) });
  }
  if (!byUnit) steps.push(...persistSteps(facts, config, spec, notes));
  if (!migrate) steps.push(...activeSteps(cryptFsFor(facts, config), config));
  return steps;
}
