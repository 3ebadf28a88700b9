// detectHost: the one place that reads the host for init. Everything it learns goes into HostFacts,
// which the pure planner turns into steps.
import { access, readdir, readFile, stat, statfs } from 'node:fs/promises';
import { constants } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Answers } from '../config/answers.js';
import { DEFAULT_IMAGE_DIR, type Config } from '../config/config.js';
import { exists, readJsonIfExists } from '../core/fs.js';
import type { Runner } from '../core/runner.js';
import { defaultCryptPath } from '../crypt/locate.js';
import { cryptPaths, MIGRATION_MARKER, MOUNT_RECORD } from '../crypt/paths.js';
import { UsageError } from '../core/errors.js';
import { FSTAB_TAG, parseFstab, unitNameForPath } from '../render/index.js';
import { detectCandidates, detectDevice } from './block.js';
import type { HostFacts, ImageFacts, UserFacts } from './facts.js';
import { mountAt, mountHolding } from './findmnt.js';
import { probeSignatures } from './signatures.js';
import { detectTargetUser, lookupUser } from './user.js';

export interface DetectContext {
  runner: Runner;
  env: NodeJS.ProcessEnv;
  /** --user */
  userFlag?: string;
  /** --crypt / LYCHD_CRYPT (the answers' crypt.path wins). */
  cryptFlag?: string;
  /** Where the runtime bundle is; default: this bundle, or dist/ of the source tree. */
  runtimeSource?: string;
  /** Skip the lsblk scan (only the interactive UI shows candidates). */
  scanDevices?: boolean;
}

export const DEFAULT_IMAGE = path.join(DEFAULT_IMAGE_DIR, 'crypt.img');
const TOOLS = ['btrfs', 'mkfs.btrfs', 'chattr', 'losetup', 'wipefs', 'systemd-analyze'] as const;

async function onPath(name: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const dirs = [...(env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin'].filter(Boolean);
  for (const dir of dirs) {
    try {
      await access(path.join(dir, name), constants.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}

async function nearestExisting(p: string): Promise<string> {
  for (let dir = p; ; dir = path.dirname(dir)) {
    try {
      if ((await stat(dir)).isDirectory()) return dir;
    } catch {
      /* walk up */
    }
    if (dir === '/') return '/';
  }
}

async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}

async function btrfsInKernel(): Promise<boolean> {
  if (await exists('/sys/module/btrfs')) return true;
  const fss = await readFile('/proc/filesystems', 'utf8').catch(() => '');
  return /\tbtrfs$/m.test(fss);
}

/** The runtime bundle to install: this file when running bundled, else dist/ next to src/. */
async function findRuntime(explicit?: string): Promise<string | null> {
  const self = fileURLToPath(import.meta.url);
  const candidates = [explicit, self.endsWith('.ts') ? path.resolve(path.dirname(self), '../../dist/lychd-crypt.js') : self];
  for (const c of candidates) if (c && (await exists(c))) return c;
  return null;
}

async function detectImage(runner: Runner, image: string): Promise<ImageFacts> {
  let st;
  try {
    st = await stat(image);
  } catch {
    return { path: image, exists: false, sizeBytes: 0, allocatedBytes: 0, signatures: [], loopDevices: [] };
  }
  const loops = await runner.run(['losetup', '--associated', image, '--noheadings', '--output', 'NAME'], { allowFailure: true });
  return {
    path: image,
    exists: true,
    sizeBytes: st.size,
    allocatedBytes: st.blocks * 512,
    signatures: st.isFile() && st.size > 0 ? await probeSignatures(runner, image) : [],
    loopDevices: loops.stdout.split('\n').map((l) => l.trim()).filter(Boolean),
  };
}

async function detectPostgresUser(runner: Runner, ref: string | number): Promise<UserFacts | null> {
  try {
    return await lookupUser(runner, ref);
  } catch {
    // A rootless container maps postgres to a sub-UID that has no passwd entry: take the number as is.
    return typeof ref === 'number' || /^\d+$/.test(String(ref)) ? { name: String(ref), uid: Number(ref), gid: Number(ref), home: '/' } : null;
  }
}

export async function detectHost(answers: Answers, ctx: DetectContext): Promise<HostFacts> {
  const { runner, env } = ctx;
  const userRef = answers.crypt?.user ?? ctx.userFlag;
  const user = await detectTargetUser(runner, userRef === undefined ? undefined : String(userRef), env);
  const cryptPath = path.resolve(answers.crypt?.path ?? ctx.cryptFlag ?? defaultCryptPath(user, env, process.getuid?.() ?? 0));
  const existingAncestor = await nearestExisting(cryptPath);
  const cryptMount = existingAncestor === cryptPath ? await mountAt(runner, cryptPath) : null;
  // The host fs is the one the crypt path's directory entry lives on, not a crypt mounted on top.
  const hostDir = cryptMount ? await nearestExisting(path.dirname(cryptPath)) : existingAncestor;
  const hostFs = await mountHolding(runner, hostDir);
  const paths = cryptPaths(cryptPath);
  const existingConfig = (await readJsonIfExists<Config>(paths.config).catch(() => undefined)) ?? null;

  if (existingAncestor !== cryptPath && (await exists(cryptPath))) {
    throw new UsageError(`crypt.path: ${cryptPath} exists and is not a directory`, { hint: 'Choose another crypt.path, or move that file away.' });
  }
  const cryptEntries =
    existingAncestor === cryptPath
      ? (await readdir(cryptPath)).filter((n) => n !== 'lost+found' && n !== MOUNT_RECORD && n !== MIGRATION_MARKER).sort()
      : [];
  const marker = existingAncestor === cryptPath ? await readJsonIfExists<{ from?: string }>(path.join(cryptPath, MIGRATION_MARKER)).catch(() => undefined) : undefined;
  const pendingMigration =
    marker?.from && (await exists(marker.from)) ? { from: marker.from, entries: (await readdir(marker.from)).sort() } : null;

  const method = answers.method === 'auto' ? existingConfig?.method : answers.method;
  const imagePath = answers.loopback?.image ?? existingConfig?.loopback?.image ?? DEFAULT_IMAGE;
  const wantImage = method === undefined || method === 'loopback' || (answers.method === 'auto' && !existingConfig);
  let imageHost: HostFacts['imageHost'] = null;
  let image: ImageFacts | null = null;
  if (wantImage) {
    const dir = await nearestExisting(path.dirname(imagePath));
    const fs = await mountHolding(runner, dir);
    imageHost = { path: dir, fstype: fs.fstype, freeBytes: await freeBytes(dir), exists: dir === path.dirname(imagePath) };
    image = await detectImage(runner, imagePath);
  }
  const devicePath = answers.partition?.device ?? (method === 'partition' ? existingConfig?.partition?.device : undefined);

  const fstabFile = answers.persist?.fstab ?? existingConfig?.persist.fstab ?? '/etc/fstab';
  const unitDir = answers.persist?.unitDir ?? existingConfig?.persist.unitDir ?? '/etc/systemd/system';
  const fstabText = await readFile(fstabFile, 'utf8').catch(() => '');
  const unitFile = path.join(unitDir, unitNameForPath(cryptPath));

  const tools = Object.fromEntries(await Promise.all(TOOLS.map(async (t) => [t, await onPath(t, env)] as const))) as HostFacts['tools'];
  const pgEnabled = answers.postgres?.enabled ?? true;

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
    candidateDevices: ctx.scanDevices ? await detectCandidates(runner) : [],
    imageHost,
    image,
    device: devicePath ? await detectDevice(runner, devicePath) : null,
    cryptEntries,
    postgresUser: pgEnabled ? await detectPostgresUser(runner, answers.postgres?.osUser ?? existingConfig?.postgres?.osUser ?? 'postgres') : null,
    persisted: {
      fstabLines: parseFstab(fstabText)
        .filter((e) => e.where === cryptPath)
        .map((e) => ({ line: e.line, what: e.what, tagged: e.options.includes(FSTAB_TAG) })),
      unitFile,
      unitExists: await exists(unitFile),
    },
    pendingMigration,
    runtimeSource: await findRuntime(ctx.runtimeSource),
    now: new Date().toISOString(),
    newUuid: randomUUID(),
  };
}
