// planInit: host facts + resolved config → the ordered steps of an install. Pure: no I/O, so the same
// function feeds --dry-run, --json, the interactive preview and the unit tests.
import path from 'node:path';
import type { Config, Owner } from '../config/config.js';
import { RefusedError, UsageError } from '../core/errors.js';
import { cryptPaths, MIGRATION_MARKER } from '../crypt/paths.js';
import type { HostFacts } from '../detect/facts.js';
import { mountRecordFor, mountSpecFor, renderFstabLine, renderMountRecord, renderMountUnit, unitNameForPath, type MountSpec } from '../render/index.js';
import { checkCryptMount, checkDevice, checkForeignPersistence, checkImage } from './checks.js';
import type { Plan, Step } from './steps.js';

const ROOT: Owner = { uid: 0, gid: 0 };
/** Layout names of a native crypt (not user data to migrate). */
const LAYOUT = new Set(['active', 'snapshots', '.lychd-crypt']);

/** Missing directories from the top down. */
function createDirs(from: string, existing: string, ownerFor: (dir: string) => Owner): Step[] {
  const missing: string[] = [];
  for (let d = from; d !== existing && d !== '/'; d = path.dirname(d)) missing.unshift(d);
  return missing.map((p) => ({ kind: 'create-dir', path: p, mode: 0o755, owner: ownerFor(p) }));
}

/** Inside the user's home, new directories belong to the user (root-owned ~/.local would lock them out). */
function userOwned(config: Config): (dir: string) => Owner {
  const home = config.crypt.home.endsWith('/') ? config.crypt.home : `${config.crypt.home}/`;
  return (dir) => (dir.startsWith(home) ? { uid: config.crypt.uid, gid: config.crypt.gid } : ROOT);
}

function layoutSteps(root: string, config: Config, skipActive: boolean): Step[] {
  const p = cryptPaths(root);
  const steps: Step[] = [];
  if (!skipActive) {
    steps.push({ kind: 'create-subvolume', path: p.active, owner: { uid: config.crypt.uid, gid: config.crypt.gid } });
    if (config.postgres) {
      steps.push({ kind: 'create-pgdata', path: path.join(p.active, config.postgres.dir), owner: { uid: config.postgres.uid, gid: config.postgres.gid }, mode: 0o700 });
    }
  }
  return steps;
}

function persistSteps(facts: HostFacts, config: Config, spec: MountSpec, notes: string[]): Step[] {
  const steps: Step[] = [];
  const { via, fstab, unitDir } = config.persist;
  const unit = unitNameForPath(spec.where);
  const unitPath = path.join(unitDir, unit);
  const reload = facts.systemdRunning;
  const oursInFstab = facts.persisted.fstabLines.some((l) => l.tagged);
  // Never both: switching persistence removes the other definition.
  if (via !== 'fstab' && oursInFstab) steps.push({ kind: 'remove-fstab-line', file: fstab, where: spec.where, reload });
  if (via !== 'systemd' && facts.persisted.unitExists) steps.push({ kind: 'remove-mount-unit', path: unitPath, unit, systemd: facts.systemdRunning });
  if (via === 'fstab') {
    steps.push({ kind: 'write-fstab-line', file: fstab, spec, line: renderFstabLine(spec), reload });
  } else if (via === 'systemd') {
    steps.push({ kind: 'write-mount-unit', path: unitPath, unit, content: renderMountUnit(spec), reload });
    if (facts.systemdRunning) steps.push({ kind: 'enable-mount-unit', unit, path: unitPath });
    else notes.push(`systemd is not running: ${unit} was written but not enabled; the crypt was mounted directly. Run \`systemctl enable ${unit}\` once systemd runs.`);
  } else {
    notes.push(`persist.via is none: the crypt is mounted now but not at boot; the mount record ${cryptPaths(spec.where).mountRecord} says how to mount it.`);
  }
  return steps;
}

function backupPath(cryptPath: string, now: string): string {
  return `${cryptPath}.pre-lychd-crypt-${now.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
}

export function planInit(facts: HostFacts, config: Config): Plan {
  const notes: string[] = [];
  const steps: Step[] = [];
  const root = config.crypt.path;
  const paths = cryptPaths(root);
  if (!facts.isRoot) throw new UsageError('init must run as root (it formats, mounts and writes system files)', { hint: 'Run it with sudo.' });
  if (config.method !== 'native' && !facts.btrfsInKernel) {
    throw new UsageError('the kernel has no Btrfs support', { hint: 'Load it with `modprobe btrfs` (package linux-image with btrfs).' });
  }
  const tools: (keyof HostFacts['tools'])[] = ['btrfs', 'chattr', ...(config.method === 'native' ? [] : (['mkfs.btrfs', 'wipefs'] as const))];
  for (const tool of tools) {
    if (!facts.tools[tool]) throw new UsageError(`${tool} is missing`, { hint: 'Install btrfs-progs and e2fsprogs (apt-get install btrfs-progs).' });
  }
  if (!facts.runtimeSource) throw new UsageError('the runtime bundle dist/lychd-crypt.js is not built', { hint: 'Run `npm run build` first.' });
  checkForeignPersistence(facts);

  const entries = facts.cryptEntries.filter((e) => !(config.method === 'native' && facts.cryptEntries.includes('.lychd-crypt') && LAYOUT.has(e)));
  const spec = mountSpecFor(config);
  let migrated = false;

  if (spec) {
    const mounted = checkCryptMount(facts, config);
    if (config.method === 'loopback') {
      const { create, needsMkfs } = checkImage(facts, config);
      const img = config.loopback!;
      if (create) {
        steps.push(...createDirs(path.dirname(img.image), facts.imageHost?.path ?? '/', () => ROOT));
        steps.push({ kind: 'create-image', path: img.image, sizeBytes: img.sizeBytes, nocow: facts.imageHost?.fstype === 'btrfs' });
      } else if (facts.image && facts.image.sizeBytes !== img.sizeBytes) {
        notes.push(`the image ${img.image} exists (${facts.image.sizeBytes} bytes); it is reused as it is, not resized`);
      }
      if (needsMkfs) steps.push({ kind: 'mkfs-btrfs', device: img.image, label: config.filesystem.label, uuid: facts.newUuid, wipe: false });
    } else {
      const { needsMkfs } = checkDevice(facts, config);
      const part = config.partition!;
      if (needsMkfs) steps.push({ kind: 'mkfs-btrfs', device: part.device, label: config.filesystem.label, uuid: part.uuid!, wipe: part.wipe });
    }
    if (!mounted) {
      steps.push(...createDirs(root, facts.existingAncestor, userOwned(config)));
      if (entries.length) {
        // Existing data is never hidden under the mount: copy it into active/ on a temporary mount,
        // then keep the original aside as a backup and mount over the now empty directory.
        const tmp = path.join(path.dirname(root), `.${path.basename(root)}.lychd-crypt-migrate`);
        const backup = backupPath(root, facts.now);
        steps.push(
          { kind: 'create-dir', path: tmp, mode: 0o700, owner: ROOT },
          { kind: 'mount', spec: { ...spec, where: tmp } },
          ...layoutSteps(tmp, config, false),
          { kind: 'copy-data', from: root, entries, to: path.join(tmp, 'active'), marker: null },
          { kind: 'unmount', path: tmp },
          { kind: 'remove-dir', path: tmp },
          { kind: 'move-aside', from: root, to: backup, marker: null },
        );
        notes.push(`existing data in ${root} was copied into ${paths.active}; the original is kept in ${backup}`);
        migrated = true;
      }
    }
    // Also on a re-run (then written through a bind mount of the host fs), so a changed persistence converges.
    steps.push({ kind: 'write-mount-record', path: paths.mountRecord, content: renderMountRecord(mountRecordFor(config)!) });
    steps.push({ kind: 'mount', spec });
    steps.push(...persistSteps(facts, config, spec, notes));
    steps.push(...layoutSteps(root, config, migrated));
  } else {
    // native: the crypt is a directory of the Btrfs host.
    if (facts.cryptMount && facts.cryptMount.fstype !== 'btrfs') {
      throw new RefusedError(`${root} is a mount point of ${facts.cryptMount.source} (${facts.cryptMount.fstype})`, { hint: 'Unmount it, or choose another crypt.path.' });
    }
    steps.push(...createDirs(root, facts.existingAncestor, userOwned(config)));
    // A directory that already holds our state is a crypt being re-run: its entries are the layout.
    const isCrypt = facts.cryptEntries.includes('.lychd-crypt');
    const pending = facts.pendingMigration;
    const userData = isCrypt || pending ? [] : facts.cryptEntries;
    if (isCrypt && entries.length) notes.push(`${root} holds entries outside the layout (${entries.join(', ')}); they were left alone`);
    // The original moves aside (atomic rename), then is copied into the new active/ subvolume; a marker
    // in the crypt directory says where it went, so an interrupted copy is finished by the next run.
    const marker = path.join(root, MIGRATION_MARKER);
    if (pending) {
      steps.push(...layoutSteps(root, config, false), { kind: 'copy-data', from: pending.from, entries: pending.entries, to: paths.active, marker });
      notes.push(`finished copying the data moved aside to ${pending.from} into ${paths.active}; the original is kept there`);
    } else if (userData.length) {
      const backup = backupPath(root, facts.now);
      steps.push(
        { kind: 'move-aside', from: root, to: backup, marker },
        ...layoutSteps(root, config, false),
        { kind: 'copy-data', from: backup, entries: userData, to: paths.active, marker },
      );
      notes.push(`existing data in ${root} was copied into ${paths.active}; the original is kept in ${backup}`);
    } else {
      steps.push(...layoutSteps(root, config, false));
    }
  }

  steps.push(
    { kind: 'create-dir', path: paths.snapshots, mode: 0o755, owner: ROOT },
    { kind: 'create-dir', path: paths.state, mode: 0o700, owner: ROOT },
    { kind: 'write-file', path: paths.config, content: `${JSON.stringify(config, null, 2)}\n`, mode: 0o644 },
    { kind: 'install-runtime', source: facts.runtimeSource, target: path.join(config.install.binDir, 'lychd-crypt'), mode: 0o755 },
  );
  return { version: 1, config, steps, notes };
}
