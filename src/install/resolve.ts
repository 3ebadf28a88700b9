// Answers + host facts → the complete Config (every default filled in, from answers/defaults.ts; every id
// resolved). Pure: it decides, detection only reads.
import { SYSTEM_DIRS } from './system-dirs.js';
import { shellSensitiveChars } from '../base/output/shell-chars.js';
import path from 'node:path';
import { RefusedError, UsageError } from '../base/errors.js';
import type { HostFacts } from './detect/facts.js';
import type { MountRecord } from './render/mount-record.js';
import type { Answers } from './answers/schema.js';
import type { Config, Method, PostgresConfig, Profile } from '../model/config.js';
import { formatSize, parseSize } from '../model/units.js';
import { defaultPreallocate, proposeImageSize } from './image-size.js';
import { resolveSetAndForget } from './answers/set-and-forget.js';
import { resolveHooks } from './answers/hooks.js';
import { resolveContainerPostgres } from './resolve-container.js';
import { resolveReplicate } from './answers/replicate.js';
import { DEFAULTS, defaultPersistVia, persistPaths } from './answers/defaults.js';

/** auto: keep what an existing crypt uses; native on a Btrfs host; else loopback (unattended). */
export function chooseMethod(answers: Answers, facts: HostFacts): Method {
  if (answers.method !== 'auto') return answers.method;
  if (facts.existingConfig) return facts.existingConfig.method;
  if (facts.mountRecord) return facts.mountRecord.method;
  return facts.hostFs.fstype === 'btrfs' ? 'native' : 'loopback';
}

function resolvePostgres(answers: Answers, facts: HostFacts): PostgresConfig | null {
  const a = answers.postgres;
  if (a?.enabled === false) return null;
  if (a?.connection?.passwordFile && a.connection.passwordSecret) {
    throw new UsageError('postgres.connection: passwordFile and passwordSecret are two sources for one password; give one');
  }
  if (a?.container && a.walDir) {
    throw new UsageError('postgres.walDir: an outside WAL is not supported with postgres.container yet (the link would have to name the path inside the container); nothing was changed', {
      hint: 'Remove postgres.walDir for a container crypt (docs/wal.md says why).',
    });
  }
  if (a?.container) return resolveContainerPostgres(a, facts, a.container.name);
  if (a?.service?.kind === 'container') throw new UsageError('postgres.service: kind container needs postgres.container (the container\'s name)');
  if (a?.connection?.passwordSecret) throw new UsageError('postgres.connection.passwordSecret: a Podman secret is read from the container: it needs postgres.container');
  const osUser = a?.osUser ?? DEFAULTS['postgres.osUser'];
  if (!facts.postgresUser) {
    throw new UsageError(`postgres.osUser: no such user: ${osUser}`, {
      hint: 'Install PostgreSQL (it creates the postgres account), name its OS user in postgres.osUser, or set postgres.enabled: false.',
    });
  }
  return {
    dir: a?.dir ?? DEFAULTS['postgres.dir'],
    osUser: String(osUser),
    uid: facts.postgresUser.uid,
    gid: facts.postgresUser.gid,
    connection: {
      host: a?.connection?.host ?? DEFAULTS['postgres.connection'].host,
      port: a?.connection?.port ?? DEFAULTS['postgres.connection'].port,
      user: a?.connection?.user ?? DEFAULTS['postgres.connection'].user,
      database: a?.connection?.database ?? DEFAULTS['postgres.connection'].database,
      ...(a?.connection?.passwordFile ? { passwordFile: a.connection.passwordFile } : {}),
    },
    bin: a?.bin ?? null,
    service: a?.service ?? DEFAULTS['postgres.service'],
    ...(a?.walDir ? { walDir: a.walDir.replace(/\/+$/, '') } : {}),
  };
}

/** walDir by name alone (its filesystem is judged by plan/checks.ts): outside the crypt path, no other crypt's. */
function checkWalDirNames(walDir: string | null, facts: HostFacts): void {
  if (!walDir) return;
  if (inside(walDir, facts.cryptPath) || inside(facts.cryptPath, walDir)) {
    throw new UsageError(`postgres.walDir: ${walDir} ${inside(walDir, facts.cryptPath) ? 'is inside' : 'contains'} the crypt path ${facts.cryptPath}: the WAL must be outside the crypt, on the host's own filesystem; nothing was changed`, {
      hint: 'Choose a directory of the host, e.g. /var/lib/lychd-wal/<name>.',
    });
  }
  const other = facts.registry.entries.find((e) => e.name !== facts.registry.name && e.config.postgres?.walDir && (inside(walDir, e.config.postgres.walDir) || inside(e.config.postgres.walDir, walDir)));
  if (other) {
    throw new UsageError(`postgres.walDir: ${walDir} overlaps the WAL directory ${other.config.postgres!.walDir} of the registered crypt "${other.name}"; nothing was changed`, {
      hint: 'Give each crypt its own walDir.',
    });
  }
}

const inside = (p: string, dir: string): boolean => p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/** A crypt is mounted over (or migrates) what is at its path: never another account's files, never another crypt. */
function checkCryptPlace(facts: HostFacts): void {
  const p = facts.cryptPath;
  // The answers' own values are checked by the schema; a default made from the user's home here.
  const chars = shellSensitiveChars(p);
  if (chars) {
    throw new UsageError(`crypt.path: ${p} holds ${chars}, which /bin/sh interprets (pg_ctl starts PostgreSQL through it); nothing was changed`, {
      hint: 'Choose a crypt path without quotes, $, backquotes or backslashes (crypt.path in the answers).',
    });
  }
  if (SYSTEM_DIRS.has(p) || p === facts.user.home) {
    throw new UsageError(`crypt.path: ${p} is a system directory or a home directory; nothing was changed`, {
      hint: 'Choose a dedicated directory, e.g. ~/.local/share/lychd (the default).',
    });
  }
  const home = facts.otherHomes.find((h) => !SYSTEM_DIRS.has(h) && inside(p, h) && !inside(facts.user.home, h));
  if (home) {
    throw new UsageError(`crypt.path: ${p} lies in ${home}, the home of another account, not of ${facts.user.name}; nothing was changed`, {
      hint: `Put the crypt in ${facts.user.name}'s own home (the default ~/.local/share/lychd), or name that account with crypt.user.`,
    });
  }
  for (const e of facts.registry.entries) {
    const other = e.config.crypt.path;
    if (other !== p && (inside(p, other) || inside(other, p))) {
      throw new UsageError(`crypt.path: ${p} ${inside(p, other) ? 'lies inside' : 'contains'} the registered crypt "${e.name}" at ${other}; nothing was changed`, {
        hint: 'Choose a path outside every crypt (`lychd-crypt crypts` lists them).',
      });
    }
  }
  const named = facts.registry.entries.find((e) => e.name === facts.registry.name && e.config.crypt.path !== p);
  if (named) {
    throw new UsageError(`crypt.name: "${named.name}" is already the crypt at ${named.config.crypt.path}; nothing was changed`, {
      hint: 'Give this crypt its own name (crypt.name in the answers).',
    });
  }
}

/** rootless when the database is the owner's own (its user unit, or run as the owner) or there is none. */
function chooseProfile(answers: Answers, facts: HostFacts, pg: PostgresConfig | null): Profile {
  // A container is the crypt user's own: rootless podman runs it as that user.
  const ownDb = !pg || Boolean(pg.container) || (pg.service.kind === 'systemd' && pg.service.user) || (pg.uid === facts.user.uid && pg.service.kind !== 'systemd');
  const profile = answers.crypt?.profile ?? (ownDb && facts.user.uid !== 0 ? 'rootless' : 'system');
  if (profile === 'rootless' && !ownDb) {
    throw new UsageError(`crypt.profile: rootless needs PostgreSQL run by ${facts.user.name} (a systemd user unit with user: true, or postgres.osUser: ${facts.user.name}); it runs as ${pg!.osUser}`, {
      hint: 'Use profile: system (the runtime then needs root), or run the database as the crypt\'s owner.',
    });
  }
  if (profile === 'rootless' && facts.user.uid === 0) throw new UsageError('crypt.profile: rootless needs a crypt user other than root');
  return profile;
}

/**
 * Reusing an image or device that already holds Btrfs: only when the registry says it is this crypt's,
 * or when it is mounted at this very path now (a crypt made before the registry, being adopted).
 */
function checkReuse(facts: HostFacts, uuid: string, what: string, mountedHere: boolean): void {
  const owner = facts.registry.entries.find((e) => e.identity.fsUuid === uuid || e.config.partition?.uuid === uuid);
  if (owner && owner.config.crypt.path === facts.cryptPath) return;
  if (owner) {
    throw new RefusedError(`${what} holds the Btrfs filesystem ${uuid} of the registered crypt "${owner.name}" at ${owner.config.crypt.path}; nothing was changed`, {
      hint: 'Point this crypt at its own image or device.',
    });
  }
  if (mountedHere) return;
  throw new RefusedError(`${what} already holds a Btrfs filesystem (UUID ${uuid}) that no registered crypt owns; nothing was changed`, {
    hint: 'If it is an earlier crypt of this user, mount it at its crypt path and re-run init with its answers to adopt it; otherwise choose another image, or remove this one yourself.',
  });
}

export function resolveConfig(answers: Answers, facts: HostFacts): Config {
  checkCryptPlace(facts);
  const method = chooseMethod(answers, facts);
  const prev = facts.existingConfig;
  if (prev && prev.method !== method) {
    throw new UsageError(`the crypt at ${facts.cryptPath} uses method ${prev.method}; the answers ask for ${method}`, {
      hint: 'Changing the method of an existing crypt is not supported: keep method (or use auto), or pick another crypt.path.',
    });
  }
  let loopback: Config['loopback'] = null;
  let partition: Config['partition'] = null;
  if (method === 'loopback') {
    // Without a size in the answers: the stored one, else that of an existing image, else 20G or what fits.
    const existingSize = facts.image?.exists && facts.image.sizeBytes > 0 ? facts.image.sizeBytes : undefined;
    const size = answers.loopback?.size !== undefined ? parseSize(answers.loopback.size)! : (prev?.loopback?.sizeBytes ?? existingSize ?? (facts.imageHost ? parseSize(proposeImageSize(facts.imageHost.freeBytes))! : DEFAULTS['loopback.size']));
    // A Btrfs image in use can grow (init does that), but shrinking it is not init's job.
    if (existingSize !== undefined && size < existingSize && facts.image?.signatures.some((s) => s.type === 'btrfs')) {
      throw new UsageError(`loopback.size: ${formatSize(size)} is smaller than the existing image (${formatSize(existingSize)}); nothing was changed`, {
        hint: 'Shrinking is not supported: keep the size (or a larger one) in the answers.',
      });
    }
    // detect canonicalised it (the answers', the stored one, or <DEFAULT_IMAGE_DIR>/<name>.img).
    const image = facts.image!.path;
    // New images are preallocated where the host has room; an existing one keeps what it was (unknown: sparse).
    const preallocate = answers.loopback?.preallocate ?? prev?.loopback?.preallocate ?? (facts.image?.exists ? undefined : defaultPreallocate(size, facts.imageHost?.freeBytes));
    loopback = { image, sizeBytes: size, ...(preallocate !== undefined ? { preallocate } : {}) };
    const btrfsSig = facts.image?.signatures.find((s) => s.type === 'btrfs');
    if (btrfsSig) checkReuse(facts, btrfsSig.uuid ?? '(none)', `loopback.image ${image}`, facts.cryptMount?.backingFile === image);
    // The image cannot live inside the filesystem it holds (nor in data about to be migrated).
    if (loopback.image.startsWith(`${facts.cryptPath}/`)) {
      throw new UsageError(`loopback.image: ${loopback.image} is inside the crypt path ${facts.cryptPath}`, {
        hint: 'Put the image outside the crypt, e.g. under /var/lib/lychd/.',
      });
    }
  }
  if (method === 'partition') {
    const device = facts.device?.path ?? answers.partition?.device ?? prev?.partition?.device ?? undefined;
    if (!device) {
      throw new UsageError('partition.device: method partition needs the device to format', {
        hint: 'Add partition: { device: /dev/disk/by-id/… } to the answers file (lsblk lists the candidates).',
      });
    }
    const sig = facts.device?.signatures.find((s) => s.type === 'btrfs');
    // Keep the UUID of a filesystem we made before; a new one gets a fresh UUID chosen now, so the plan
    // (and its fstab line) is exact before mkfs runs.
    // Ours: the UUID of the stored config, of the mount record left underneath an unmounted crypt, or mounted here.
    const recorded = facts.mountRecord?.mount.what.replace(/^UUID=/, '');
    const ours = sig?.uuid && (sig.uuid === prev?.partition?.uuid || sig.uuid === recorded || facts.device?.mountPoints.includes(facts.cryptPath));
    // A Btrfs of another registered crypt is refused even with wipe; a foreign one needs wipe (checked later).
    const taken = sig?.uuid ? facts.registry.entries.find((e) => e.config.partition?.uuid === sig.uuid && e.config.crypt.path !== facts.cryptPath) : undefined;
    if (taken) checkReuse(facts, sig!.uuid!, `partition.device ${device}`, false);
    partition = { device, wipe: answers.partition?.wipe ?? false, uuid: ours ? sig!.uuid! : facts.newUuid };
  }
  if (method === 'native' && facts.hostFs.fstype !== 'btrfs') {
    throw new UsageError(`method native needs the crypt path on Btrfs, but ${facts.existingAncestor} is on ${facts.hostFs.fstype}`, {
      hint: 'Use method: loopback (an image file) or partition (a dedicated device), or put crypt.path on a Btrfs filesystem.',
    });
  }
  // An unmounted crypt's record stands in for its (unreadable) config.json.
  const rec = facts.mountRecord;
  const via = answers.persist?.via ?? prev?.persist.via ?? rec?.persist.via ?? defaultPersistVia(facts.systemdRunning);
  const postgres = resolvePostgres(answers, facts);
  checkWalDirNames(postgres?.walDir ?? null, facts);
  const profile = chooseProfile(answers, facts, postgres);
  // A rootless crypt keeps its state (and pg_ctl's log) in the owner's home.
  const homeChars = profile === 'rootless' && postgres?.service.kind === 'pg_ctl' ? shellSensitiveChars(facts.user.home) : '';
  if (homeChars) {
    throw new UsageError(`crypt.user: the home directory ${facts.user.home} of ${facts.user.name} holds ${homeChars}, which /bin/sh interprets (pg_ctl's log would be there); nothing was changed`, {
      hint: 'Let a systemd user unit run PostgreSQL (postgres.service kind systemd, user: true), or use an account whose home is a plain path.',
    });
  }
  return {
    version: 1,
    crypt: { name: facts.registry.name, path: facts.cryptPath, user: facts.user.name, uid: facts.user.uid, gid: facts.user.gid, home: facts.user.home },
    profile,
    registry: { dir: facts.registry.dir, state: facts.registry.state },
    method,
    loopback,
    partition,
    filesystem: {
      label: answers.filesystem?.label ?? prev?.filesystem.label ?? rec?.label ?? DEFAULTS['filesystem.label'],
      mountOptions: answers.filesystem?.mountOptions ?? prev?.filesystem.mountOptions ?? rec?.mount.options.filter((o) => o !== 'loop') ?? [...DEFAULTS['filesystem.mountOptions']],
    },
    persist: {
      via: method === 'native' ? 'none' : via,
      ...persistPaths(answers, prev, rec),
    },
    install: { binDir: answers.install?.binDir ?? prev?.install.binDir ?? DEFAULTS['install.binDir'] },
    postgres,
    ...resolveSetAndForget(answers),
    ...resolveHooks(answers.hooks),
    ...resolveReplicate(answers.replicate),
  };
}

