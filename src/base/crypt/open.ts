// Opens a registered crypt for a runtime command: its definition from the root-owned registry, the
// caller's right to act on it, and its identity on disk (filesystem UUID, root inode, active/), checked
// through an fd opened without following symbolic links. A root-run command then reaches the crypt only
// through that fd (paths under /proc/<pid>/fd/<n>), so renaming or replacing anything on the way to the
// crypt after the check cannot redirect it.
import { learnCrypt } from '../output/hint.js';
import path from 'node:path';
import { readdir, stat } from 'node:fs/promises';
import type { Config } from '../../model/config.js';
import { CryptError, RefusedError } from '../errors.js';
import { readJournal } from './journal.js';
import { registerAnchor } from '../anchors.js';
import { reachThroughUserns } from '../userns/tree.js';
import type { RegistryEntry } from '../registry/store.js';
import { writeEntry } from '../registry/store.js';
import { btrfsFsIds, closeDir, FdError, openDir, subvolInfo, type Dir } from '../sys/fd.js';
import { identifyMount, type FsIdentity } from '../btrfs/fs-identity.js';
import { checkAccess, rootRepairCommand, RunAsOwner } from './access.js';
import { cryptPaths, type CryptPaths } from './paths.js';
import { selectEntry, type CryptRequest } from './select.js';
import type { OpContext } from '../context.js';

export interface OpenCrypt {
  paths: CryptPaths;
  config: Config;
  entry: RegistryEntry;
  /** The registered crypt path, for messages. */
  shown: string;
  /** false: a Method A/B crypt whose filesystem is not mounted (only doctor and repair open it so). */
  mounted: boolean;
  /** The crypt root, held open while the command runs; null when not mounted. */
  dir: Dir | null;
}

export interface OpenOptions {
  /** doctor and repair look at an unmounted crypt too. */
  allowUnmounted?: boolean;
  /**
   * A host command only root can run (resize): root acts itself also on a rootless crypt, on the host's
   * side of it only (image, loop device, Btrfs's size), never on the owner's files.
   */
  asRoot?: boolean;
  /**
   * status: a caller who may not act on the crypt (a monitoring user, or the owner of a system crypt) still
   * reads what anyone may read — the registry, mountinfo, sysfs, and whatever of the crypt its permissions
   * let it see. It gets the crypt unopened (no fd, nothing acted on), never a refusal.
   */
  observe?: boolean;
  /**
   * Root keeps its own power on a rootless crypt instead of re-running as the owner: replicate and restore,
   * whose btrfs send and receive need CAP_SYS_ADMIN (they read and write through the verified descriptor,
   * and never run anything of the owner's). Anyone else is checked as usual.
   */
  rootPower?: boolean;
}

const ENOTTY = 25;

/**
 * Mounting is root's: root is told to repair, anyone else the root command (never one that cannot work for
 * them). When another filesystem is mounted there, doctor says which and what to do (repair alone may not).
 */
function notMounted(config: Config, why: string, somethingElse = false): CryptError {
  const root = process.getuid?.() === 0;
  return new CryptError(`the crypt "${config.crypt.name}" at ${config.crypt.path} is not mounted (${why})`, {
    hint: somethingElse
      ? `Run \`lychd-crypt doctor\`: it names what is mounted there and the fix (mount.identity)${root ? '' : `; only root can mount the crypt: \`${rootRepairCommand(config.crypt.name)}\``}.`
      : root
        ? 'Run `lychd-crypt repair` to mount it again.'
        : `Only root can mount it: \`${rootRepairCommand(config.crypt.name)}\``,
  });
}

/** Why what is mounted at the crypt path is not the crypt, in a few words. */
function whatIsMounted(fsUuid: string | null, identity: FsIdentity | null): string {
  if (!fsUuid) return 'no Btrfs filesystem is there';
  if (identity?.kind === 'temp-fsid') return `a byte copy of its filesystem is mounted there from ${identity.source}, under the temporary fsid ${fsUuid}, not the registered source`;
  return `another Btrfs filesystem, ${fsUuid}, is there`;
}

/**
 * Whether the registered filesystem is mounted at the crypt path (a no-follow walk, then its UUID): what
 * root asks before it drops to the owner of a rootless crypt, since mounting is root's part.
 */
export async function isMountedCrypt(entry: RegistryEntry): Promise<boolean> {
  const dir = await openDir(entry.config.crypt.path).catch(() => null);
  if (!dir) return false;
  try {
    const ids = await btrfsFsIds(dir).catch(() => null);
    if (!ids || ids.fsid === entry.identity.fsUuid) return ids !== null;
    // Under a temporary fsid (a byte copy is mounted elsewhere) it is the crypt if it has the registered source.
    const identity = await identifyMount(entry.config, entry.identity.fsUuid, entry.config.crypt.path, ids);
    return identity.kind === 'temp-fsid' && identity.registeredSource;
  } finally {
    await closeDir(dir);
  }
}

function notTheCrypt(config: Config, why: string): RefusedError {
  return new RefusedError(`${config.crypt.path} is not the registered crypt "${config.crypt.name}": ${why}; nothing was changed`, {
    hint: 'Something moved or replaced it. Look at the path (`ls -la`), put the crypt back, and run `lychd-crypt doctor`.',
  });
}

/** Whether `uuid` belongs to a snapshot in snapshots/ (active/ after a rollback is a clone of one). */
async function isSnapshotUuid(root: Dir, uuid: string): Promise<boolean> {
  const snaps = await openDir('snapshots', root);
  try {
    for (const name of await readdir(snaps.anchor)) {
      const d = await openDir(name, snaps).catch(() => null);
      if (!d) continue;
      try {
        if ((await subvolInfo(d).catch(() => null))?.uuid === uuid) return true;
      } finally {
        await closeDir(d);
      }
    }
    return false;
  } finally {
    await closeDir(snaps);
  }
}

/**
 * active/ is the registered subvolume, or — after a rollback root has not recorded yet (the owner's own,
 * or a crash) — a clone of one of this crypt's snapshots, or the one a pending rollback staged.
 */
async function checkActive(root: Dir, entry: RegistryEntry, paths: CryptPaths): Promise<string> {
  const active = await openDir('active', root).catch((e: unknown) => {
    if (e instanceof FdError) throw notTheCrypt(entry.config, `active/ is missing (${e.message})`);
    throw e;
  });
  try {
    const info = await subvolInfo(active).catch((e: unknown) => e as Error);
    if (info instanceof Error) {
      // A filesystem Btrfs forced read-only (or with I/O errors) may fail even this ioctl: the verified
      // root's own active/, a subvolume root by its inode, is accepted then (doctor and repair must look).
      if (info instanceof FdError && info.errno !== ENOTTY && (await isSubvolumeRoot(active))) return entry.identity.activeUuid;
      throw notTheCrypt(entry.config, 'active/ is not a Btrfs subvolume');
    }
    if (info.uuid === entry.identity.activeUuid) return info.uuid;
    // An unusable journal vouches for nothing (the command then refuses on it, naming the fix).
    const journal = await readJournal(paths).catch(() => undefined);
    if ((journal?.op === 'rollback' || journal?.op === 'run-rollback') && journal.stagedUuid === info.uuid) return info.uuid;
    if (info.parentUuid && (await isSnapshotUuid(root, info.parentUuid))) return info.uuid;
    throw notTheCrypt(entry.config, `active/ is subvolume ${info.uuid}, not the registered ${entry.identity.activeUuid} nor a clone of one of its snapshots`);
  } finally {
    await closeDir(active);
  }
}

/** Every Btrfs subvolume's root directory has inode 256. */
const isSubvolumeRoot = async (d: Dir): Promise<boolean> => (await stat(d.anchor).catch(() => null))?.ino === 256;

async function checkIsSubvolume(root: Dir, config: Config): Promise<void> {
  const active = await openDir('active', root).catch(() => null);
  const ok = active && ((await subvolInfo(active).catch(() => null)) || (await isSubvolumeRoot(active)));
  await closeDir(active);
  if (!ok) throw notTheCrypt(config, 'active/ is missing or not a Btrfs subvolume');
}

/** Keeps the registry's active/ UUID current (root only), so the next check is the quick one. */
async function recordActive(entry: RegistryEntry, activeUuid: string): Promise<void> {
  entry.identity = { ...entry.identity, activeUuid };
  await writeEntry(entry.config.registry.dir, entry);
}

/** After a root-run change (a rollback swaps active/): record the new active/ before its lineage can go. */
export async function refreshIdentity(crypt: OpenCrypt): Promise<void> {
  if (process.getuid?.() !== 0 || !crypt.dir) return;
  const active = await openDir('active', crypt.dir).catch(() => null);
  if (!active) return;
  try {
    const uuid = (await subvolInfo(active)).uuid;
    if (uuid !== crypt.entry.identity.activeUuid) await recordActive(crypt.entry, uuid);
  } finally {
    await closeDir(active);
  }
}

/**
 * The crypt is being removed: a `deinit` was interrupted (its mark is in the registry entry). No command acts
 * on a half-removed crypt; the frame (cli/frame/mutate.ts) finishes the deinit when root runs it, anyone
 * else is told root's command.
 */
export class DeinitPendingError extends RefusedError {
  constructor(readonly entry: RegistryEntry) {
    const c = entry.config.crypt;
    const root = process.getuid?.() === 0;
    super(`the crypt "${c.name}" at ${c.path} is being removed: its deinit was interrupted (started ${entry.deinit!.startedAt}); nothing was changed`, {
      hint: root
        ? `Finish it: \`lychd-crypt deinit --crypt ${c.name} --yes\` (or \`lychd-crypt repair\`). \`lychd-crypt init\` with its answers finishes it too, then brings the crypt back.`
        : `Only root can finish it: \`sudo lychd-crypt deinit --crypt ${c.name} --yes\`.`,
    });
  }
}

export async function openCrypt(ctx: OpContext, req: CryptRequest, opts: OpenOptions = {}): Promise<OpenCrypt> {
  const entry = await selectEntry(ctx, req);
  if (entry.deinit) throw new DeinitPendingError(entry);
  const config = entry.config;
  // For the follow-up commands printed later (src/base/output/hint.ts): its name, and where its command is installed.
  learnCrypt({ cryptName: entry.name, installed: path.join(config.install.binDir, 'lychd-crypt') });
  const uid = process.getuid?.() ?? 0;
  const shown = config.crypt.path;
  try {
    if (!(opts.rootPower && uid === 0)) checkAccess(config, uid, req.command, req.argv);
  } catch (e) {
    if (e instanceof RunAsOwner && opts.asRoot) return openChecked(entry, opts);
    // Root on a rootless crypt: an unmounted crypt is root's to mount (repair), so root says so itself
    // rather than have the owner's process fail at it (src/care/root-part.ts mounts it for repair).
    if (e instanceof RunAsOwner && !opts.allowUnmounted && config.method !== 'native' && !(await isMountedCrypt(entry))) throw notMounted(config, 'its filesystem is not there');
    if (opts.observe && !(e instanceof RunAsOwner)) {
      const id = config.method === 'native' ? null : await identifyMount(config, entry.identity.fsUuid, shown);
      const mounted = !id || id.kind === 'as-registered' || (id.kind === 'temp-fsid' && id.registeredSource);
      return { paths: cryptPaths(shown, entry.stateDir), config, entry, shown, mounted, dir: null };
    }
    throw e;
  }
  return openChecked(entry, opts);
}

/** The checks of openCrypt once the caller may act: the crypt root's identity, through a no-follow fd. */
async function openChecked(entry: RegistryEntry, opts: OpenOptions): Promise<OpenCrypt> {
  const config = entry.config;
  const uid = process.getuid?.() ?? 0;
  const shown = config.crypt.path;
  const unmounted = (why: string, somethingElse = false): OpenCrypt => {
    if (!opts.allowUnmounted) throw notMounted(config, why, somethingElse);
    return { paths: cryptPaths(shown, entry.stateDir), config, entry, shown, mounted: false, dir: null };
  };
  let dir: Dir;
  try {
    dir = await openDir(shown);
  } catch (e) {
    if (e instanceof FdError && config.method !== 'native') return unmounted(`${shown}: errno ${e.errno}`);
    if (e instanceof FdError) throw notTheCrypt(config, e.message);
    throw e;
  }
  try {
    const ids = await btrfsFsIds(dir).catch((e: unknown) => {
      if (e instanceof FdError && e.errno === ENOTTY) return null;
      throw e;
    });
    const fsUuid = ids?.fsid ?? null;
    if (fsUuid !== entry.identity.fsUuid) {
      // The crypt under a temporary fsid (a byte copy of it is mounted too): it is the crypt when it comes
      // from the registered image or device; doctor reports the copy (mount.identity).
      const identity = ids && config.method !== 'native' ? await identifyMount(config, entry.identity.fsUuid, shown, ids) : null;
      if (identity?.kind !== 'temp-fsid' || !identity.registeredSource) {
        await closeDir(dir);
        if (config.method !== 'native') return unmounted(whatIsMounted(fsUuid, identity), true);
        throw notTheCrypt(config, `it is on filesystem ${fsUuid ?? '(not Btrfs)'}, not ${entry.identity.fsUuid}`);
      }
    }
    if ((await stat(dir.anchor)).ino !== entry.identity.rootIno) throw notTheCrypt(config, 'its directory is not the one init made (another inode)');
    // Root works through the fd; a user works as itself, on paths it controls anyway.
    const root = uid === 0 ? dir.anchor : shown;
    const paths = cryptPaths(root, entry.stateDir);
    // active/'s UUID guards root's actions; the owner of a rootless crypt acts on its own files anyway.
    if (uid === 0) {
      const activeUuid = await checkActive(dir, entry, paths);
      if (activeUuid !== entry.identity.activeUuid) await recordActive(entry, activeUuid);
    } else await checkIsSubvolume(dir, config);
    if (uid === 0) registerAnchor(dir.anchor, shown);
    // PGDATA of the owner's container belongs to a subordinate uid: the owner reaches it through its user namespace.
    else if (config.postgres?.container) reachThroughUserns(root);
    return { paths, config, entry, shown, mounted: true, dir };
  } catch (e) {
    await closeDir(dir);
    throw e;
  }
}

export async function closeCrypt(crypt: OpenCrypt): Promise<void> {
  if (!crypt.dir) return;
  // The anchor stays known: the command's output, printed after this, may still name it.
  await closeDir(crypt.dir);
  crypt.dir = null;
}

/** Opens the crypt, runs fn, and always closes it (an fd left open would keep the filesystem busy). */
export async function withCrypt<T>(ctx: OpContext, req: CryptRequest, fn: (crypt: OpenCrypt) => Promise<T>, opts: OpenOptions = {}): Promise<T> {
  const crypt = await openCrypt(ctx, req, opts);
  try {
    return await fn(crypt);
  } finally {
    await closeCrypt(crypt);
  }
}

