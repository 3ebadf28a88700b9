// detectHost: the one place that reads the host for init. Everything it learns goes into HostFacts,
// which resolve (decides) and the pure planner turn into a plan; it decides nothing itself. Where it looks
// when the answers do not say (the image, fstab, the unit directory, the postgres user) is the default
// of answers/defaults.ts.
import { readWalPlacement } from '../../base/wal/placement.js';
import { readPostmaster } from '../../base/pg/postmaster.js';
import { lstat, readdir, readFile, realpath } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Answers } from '../answers/schema.js';
import type { Config } from '../../model/config.js';
import { DEFAULTS, defaultCryptName, defaultImage, persistPaths } from '../answers/defaults.js';
import { exists, readJsonIfExists } from '../../base/sys/fs.js';
import { DEFAULT_STATE_DIR, readRegistry, readReleased, registryDir, STATE_ENV, type RegistryEntry } from '../../base/registry/store.js';
import type { Runner } from '../../base/runner.js';
import { defaultCryptPath } from '../../base/crypt/locate.js';
import { MIGRATION_MARKER, MOUNT_RECORD } from '../../base/crypt/paths.js';
import { UsageError } from '../../base/errors.js';
import { closest, orList } from '../../base/output/did-you-mean.js';
import { FSTAB_TAG, mountRecordFor, parseFstab, unitNameForPath } from '../render/index.js';
import { detectCandidates, detectDevice } from './block.js';
import type { HostFacts, ImageFacts } from './facts.js';
import { mountAt, mountHolding } from './findmnt.js';
import { btrfsInKernel, detectImage, diskUsage, detectPostgresUser, findRuntime, freeBytes, nearestExisting, onPath } from './probes.js';
import { detectTargetUser } from '../../base/user.js';
import { existingScheduleUnits } from './schedule-units.js';
import { containersOnCrypt, detectContainers, detectPgdataOwner } from './container.js';
import { userUnitDir } from '../../base/systemctl.js';

const isDir = (p: string): Promise<boolean> => lstat(p).then((st) => st.isDirectory(), () => false);

/**
 * A temp file of our own atomic write of the mount record or the migration marker, left by a power cut in
 * the middle of it (writeFileAtomic names it `.<file>.<hex>.tmp`): not data to migrate.
 */
export const TOOL_TEMP = /^\.\.lychd-crypt-(mount|migrating)\.json\.[0-9a-f]+\.tmp$/;

export interface DetectContext {
  runner: Runner;
  env: NodeJS.ProcessEnv;
  /** --user */
  userFlag?: string;
  /** --crypt / LYCHD_CRYPT (the answers' crypt.path wins). */
  cryptFlag?: string;
  /** Where the runtime bundle is; default: this bundle, or dist/ of the source tree. */
  runtimeSource?: string;
  /** Scan lsblk for Method A candidates (only the interactive UI shows them). */
  scanDevices?: boolean;
  /** List the user's podman containers (the interactive UI offers one that keeps its data in the crypt). */
  scanContainers?: boolean;
  /** --registry / LYCHD_CRYPT_REGISTRY (the answers' registry.dir wins). */
  registryFlag?: string;
}

/** A path with its existing part resolved (symlinks, ..): what mount(8), losetup and later checks will see. */
async function canonical(p: string): Promise<string> {
  const ancestor = await nearestExisting(p);
  return path.join(await realpath(ancestor), path.relative(ancestor, p));
}

/**
 * The marker of a native migration in progress names where the original data went. It lies in a
 * directory the user may write, so it counts only when root wrote it and it names the backup beside the
 * crypt path that init itself would have chosen (see backupPath).
 */
async function trustedMarker(cryptPath: string): Promise<{ from?: string } | undefined> {
  const file = path.join(cryptPath, MIGRATION_MARKER);
  const st = await lstat(file).catch(() => null);
  if (!st?.isFile() || st.uid !== 0) return undefined;
  const m = await readJsonIfExists<{ from?: string }>(file).catch(() => undefined);
  const expected = new RegExp(`^${cryptPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.pre-lychd-crypt-\\d{8}T\\d{6}Z$`);
  return m?.from && expected.test(m.from) ? m : undefined;
}

/** Home directories of other accounts (a crypt there would be mounted over someone else's files). */
async function otherHomes(runner: Runner, self: string): Promise<string[]> {
  const r = await runner.run(['getent', 'passwd'], { allowFailure: true });
  const homes = r.stdout
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 7 && f[0] !== self)
    .map((f) => f[5]!)
    .filter((h) => h.startsWith('/') && h !== '/' && !h.startsWith('/nonexistent'));
  return [...new Set(homes)];
}

const TOOLS = ['btrfs', 'mkfs.btrfs', 'chattr', 'losetup', 'wipefs', 'systemd-analyze'] as const;

/** What a released crypt left is still its filesystem: the image's or device's Btrfs UUID, a native directory's inode. */
async function stillHolds(runner: Runner, e: RegistryEntry, answers: Answers): Promise<boolean> {
  const c = e.config;
  if (c.method === 'native') {
    const st = await lstat(c.crypt.path).catch(() => null);
    return st?.isDirectory() === true && st.ino === e.identity.rootIno;
  }
  const source = c.method === 'loopback' ? (answers.loopback?.image ?? c.loopback?.image) : (answers.partition?.device ?? c.partition?.device);
  if (!source) return false;
  const r = await runner.run(['blkid', '-p', '-o', 'export', source], { allowFailure: true });
  return /^TYPE=btrfs$/m.test(r.stdout) && new RegExp(`^UUID=${e.identity.fsUuid}$`, 'm').test(r.stdout);
}

/** --crypt for init: a path (it holds a /), or the name of a registered crypt (its path); another name is refused. */
function cryptFlagPath(flag: string | undefined, registered: RegistryEntry[]): string | undefined {
  if (flag === undefined || flag.includes('/')) return flag;
  const entry = registered.find((e) => e.name === flag);
  if (entry) return entry.config.crypt.path;
  const near = closest(flag, registered.map((e) => e.name));
  throw new UsageError(`--crypt ${flag}: no crypt of that name is registered${near.length ? `; did you mean ${orList(near)}?` : ''}`, {
    hint: 'Name a registered crypt (`lychd-crypt crypts` lists them), or give the path of a new one (with a /, e.g. ./lychd).',
  });
}

/**
 * Without a crypt path in the answers or on the command line: the target user's registered crypt (its
 * name, when the answers give one, else the only one of this user), so a re-run finds the crypt it made
 * instead of proposing a new one at the default path beside it.
 */
function registeredPathOf(uid: number, answers: Answers, registered: RegistryEntry[]): string | undefined {
  const mine = registered.filter((e) => (answers.crypt?.name ? e.name === answers.crypt.name : e.config.crypt.uid === uid));
  return mine.length === 1 ? mine[0]!.config.crypt.path : undefined;
}

/** An existing cluster's pg_wal and whether its server runs (init moves a real pg_wal out only while it is stopped). */
async function detectWalNow(pgdata: string): Promise<HostFacts['walNow']> {
  const st = await lstat(path.join(pgdata, 'pg_wal')).catch(() => null);
  const pgWal = !st ? 'missing' : st.isSymbolicLink() ? 'link' : 'dir';
  return { pgWal, running: pgWal === 'missing' ? false : (await readPostmaster(pgdata).catch(() => ({ running: false }))).running };
}

export async function detectHost(answers: Answers, ctx: DetectContext): Promise<HostFacts> {
  const { runner, env } = ctx;
  const userRef = answers.crypt?.user ?? ctx.userFlag;
  const user = await detectTargetUser(runner, userRef === undefined ? undefined : String(userRef), env);
  const regDir = registryDir(answers.registry?.dir ?? ctx.registryFlag, env);
  // Only the root-owned registry says what an existing crypt is; nothing under the crypt path is trusted.
  const listed: RegistryEntry[] = await readRegistry(regDir);
  const requested = path.resolve(answers.crypt?.path ?? cryptFlagPath(ctx.cryptFlag, listed) ?? registeredPathOf(user.uid, answers, listed) ?? defaultCryptPath(user, env, process.getuid?.() ?? 0));
  // Mount points are canonical paths (mount(8) and systemd resolve symlinks): resolve them here, so
  // fstab, the unit name and later comparisons all use the same path.
  const requestedAncestor = await nearestExisting(requested);
  const existingAncestor = await realpath(requestedAncestor);
  const cryptPath = path.join(existingAncestor, path.relative(requestedAncestor, requested));
  const cryptMount = existingAncestor === cryptPath ? await mountAt(runner, cryptPath) : null;
  // The host fs is the one the crypt path's directory entry lives on, not a crypt mounted on top.
  const hostDir = cryptMount ? await nearestExisting(path.dirname(cryptPath)) : existingAncestor;
  const hostFs = await mountHolding(runner, hostDir);
  // A crypt deinit released with its data (root's record of its last entry, SPEC section 11): known again
  // as this crypt's while what is there is still its filesystem (checked below, once the image or device is read).
  const stateBase = path.resolve(answers.registry?.state ?? env[STATE_ENV] ?? DEFAULT_STATE_DIR);
  const releasedName = answers.crypt?.name ?? defaultCryptName(user.name);
  const released = listed.some((e) => e.config.crypt.path === cryptPath || e.name === releasedName) ? null : await readReleased(stateBase, releasedName);
  const candidate = released?.config.crypt.path === cryptPath && (await stillHolds(runner, released, answers)) ? released : null;
  const registered: RegistryEntry[] = candidate ? [...listed, candidate] : listed;
  const ours = registered.find((e) => e.config.crypt.path === cryptPath) ?? null;
  const existingConfig: Config | null = ours?.config ?? null;

  if (existingAncestor !== cryptPath && (await exists(cryptPath))) {
    throw new UsageError(`crypt.path: ${cryptPath} exists and is not a directory`, { hint: 'Choose another crypt.path, or move that file away.' });
  }
  const cryptEntries =
    existingAncestor === cryptPath
      ? (await readdir(cryptPath)).filter((n) => n !== 'lost+found' && n !== MOUNT_RECORD && n !== MIGRATION_MARKER && !TOOL_TEMP.test(n)).sort()
      : [];
  const marker = existingAncestor === cryptPath ? await trustedMarker(cryptPath) : undefined;
  const pendingMigration =
    marker?.from && (await exists(marker.from)) ? { from: marker.from, entries: (await readdir(marker.from)).sort() } : null;

  // The registry's record of an unmounted crypt (the file written under the mount point is informative only).
  const mountRecord = existingConfig && !cryptMount ? mountRecordFor(existingConfig) : null;
  const known = existingConfig;
  const method = answers.method === 'auto' ? known?.method : answers.method;
  const name = answers.crypt?.name ?? ours?.name ?? defaultCryptName(user.name);
  const imagePath = await canonical(answers.loopback?.image ?? existingConfig?.loopback?.image ?? defaultImage(name));
  const wantImage = method === undefined || method === 'loopback';
  let imageHost: HostFacts['imageHost'] = null;
  let image: ImageFacts | null = null;
  if (wantImage) {
    const dir = await nearestExisting(path.dirname(imagePath));
    const fs = await mountHolding(runner, dir);
    imageHost = { path: dir, fstype: fs.fstype, freeBytes: await freeBytes(dir), exists: dir === path.dirname(imagePath) };
    image = await detectImage(runner, imagePath);
  }
  const rawDevice = answers.partition?.device ?? (method === 'partition' ? (existingConfig?.partition?.device ?? undefined) : undefined);
  const devicePath = rawDevice ? await canonical(rawDevice) : undefined;

  const { fstab: fstabFile, unitDir } = persistPaths(answers, existingConfig, mountRecord);
  const fstabText = await readFile(fstabFile, 'utf8').catch(() => '');
  const unitFile = path.join(unitDir, unitNameForPath(cryptPath));

  const stateDir = path.resolve(answers.registry?.state ?? existingConfig?.registry?.state ?? env[STATE_ENV] ?? DEFAULT_STATE_DIR);
  const tools = Object.fromEntries(await Promise.all(TOOLS.map(async (t) => [t, await onPath(t, env)] as const))) as HostFacts['tools'];
  const pgEnabled = answers.postgres?.enabled ?? DEFAULTS['postgres.enabled'];
  // PostgreSQL in the user's own container: its podman says where the data is and how ids map.
  const containerName = pgEnabled ? (answers.postgres?.container?.name ?? null) : null;
  // Asked only when a container is named, or for the wizard when the user already uses podman: a first podman
  // call would leave state (and a pause process) in an account that never used it.
  const askPodman = containerName !== null || (ctx.scanContainers === true && (await exists(path.join(user.home, '.local/share/containers/storage'))));
  const podman = pgEnabled && askPodman && user.uid !== 0 && (await onPath('podman', env)) ? await detectContainers(runner, user) : null;
  const named = podman?.containers?.find((c) => c.name === containerName) ?? null;
  const pgDir =
    answers.postgres?.dir ?? (named ? containersOnCrypt([named], cryptPath)[0]?.dir : undefined) ?? DEFAULTS['postgres.dir'];

  return {
    isRoot: process.getuid?.() === 0,
    systemdRunning: await exists('/run/systemd/system'),
    btrfsInKernel: await btrfsInKernel(),
    tools,
    user,
    cryptPath,
    existingAncestor,
    hostFs,
    freeBytes: await freeBytes(hostDir),
    cryptMount,
    cryptHasData: cryptEntries.length > 0,
    existingConfig,
    released: candidate !== null && ours === candidate,
    candidateDevices: ctx.scanDevices ? await detectCandidates(runner) : [],
    imageHost,
    image,
    device: devicePath ? await detectDevice(runner, devicePath) : null,
    cryptEntries,
    registry: { dir: regDir, entries: registered, name, state: stateDir },
    registryParents: { dir: await isDir(path.dirname(regDir)), state: await isDir(path.dirname(stateDir)) },
    otherHomes: await otherHomes(runner, user.name),
    postgresUser: pgEnabled && !containerName ? await detectPostgresUser(runner, answers.postgres?.osUser ?? existingConfig?.postgres?.osUser ?? DEFAULTS['postgres.osUser']) : null,
    podman,
    pgdataNow: pgEnabled ? await detectPgdataOwner(path.join(cryptPath, 'active', pgDir)) : null,
    walPlacement: pgEnabled && answers.postgres?.walDir ? await readWalPlacement(answers.postgres.walDir, cryptPath) : null,
    walNow: pgEnabled && answers.postgres?.walDir ? await detectWalNow(path.join(cryptPath, 'active', pgDir)) : null,
    persisted: {
      fstabLines: parseFstab(fstabText)
        .filter((e) => e.where === cryptPath)
        .map((e) => ({ line: e.line, what: e.what, tagged: e.options.includes(FSTAB_TAG) })),
      unitFile,
      unitExists: await exists(unitFile),
    },
    scheduleUnits: await existingScheduleUnits(path.dirname(unitFile), cryptPath),
    userScheduleUnits: await existingScheduleUnits(userUnitDir(user.home), cryptPath),
    pendingMigration,
    mountRecord,
    cryptDataBytes: !cryptMount && cryptEntries.length && !cryptEntries.includes('.lychd-crypt') ? await diskUsage(runner, cryptPath) : 0,
    runtimeSource: await findRuntime(ctx.runtimeSource),
    now: new Date().toISOString(),
    newUuid: randomUUID(),
  };
}
