// The registry: one root-owned JSON file per crypt (default /etc/lychd-crypt/<name>.json) holding its
// authoritative definition. init writes it; every runtime command reads the crypt's definition from
// here, never from the crypt itself (SPEC section 8).
import { mkdir, readdir, readFile, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../model/config.js';
import { CryptError, UsageError } from '../errors.js';
import { fsyncDir, writeJsonAtomic } from '../sys/fs.js';
import { assertRootsOwn } from './trust.js';

export const DEFAULT_REGISTRY_DIR = '/etc/lychd-crypt';
export const DEFAULT_STATE_DIR = '/var/lib/lychd-crypt';
export const REGISTRY_ENV = 'LYCHD_CRYPT_REGISTRY';
/** Root's state directory for new crypts (init only; each crypt's own is recorded in its entry). */
export const STATE_ENV = 'LYCHD_CRYPT_STATE';

/** What identifies the crypt on disk, checked before every privileged action. */
export interface Identity {
  /** UUID of the Btrfs filesystem holding the crypt (the crypt's own on Method A/B, the host's when native). */
  fsUuid: string;
  /** Inode number of the crypt's root directory on that filesystem (the top level, 256, on Method A/B). */
  rootIno: number;
  /** UUID of the active/ subvolume as of the last root-run change (rollback replaces it). */
  activeUuid: string;
}

/**
 * `lychd-crypt deinit` in progress (SPEC section 11), written into the entry before its first step: the
 * entry is root's and outlives every other thing deinit removes, and the last step (unregister) removes it
 * with the entry. What the user consented to is kept, so the next command (or repair) finishes it as asked.
 */
export interface DeinitMark {
  id: string;
  startedAt: string;
  /** --delete-data was given (and consented to): the image, partition or native tree goes too. */
  deleteData: boolean;
  /** Consent to stop the database if it runs from the crypt. */
  stopDatabase: boolean;
}

export interface RegistryEntry {
  version: 1;
  name: string;
  config: Config;
  identity: Identity;
  /** Journal, lock and the pg_ctl log directory of this crypt. */
  stateDir: string;
  registeredAt: string;
  /** Present while a deinit of this crypt is under way (or was interrupted). */
  deinit?: DeinitMark;
}

export function registryDir(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return path.resolve(flag ?? env[REGISTRY_ENV] ?? DEFAULT_REGISTRY_DIR);
}

export function entryFile(dir: string, name: string): string {
  return path.join(dir, `${name}.json`);
}

/** Crypt names become file names and unit names: keep them plain. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

function parseEntry(file: string, text: string): RegistryEntry {
  let e: RegistryEntry;
  try {
    e = JSON.parse(text) as RegistryEntry;
  } catch (err) {
    throw new CryptError(`the registry entry ${file} is not valid JSON: ${(err as Error).message}`, { hint: 'Re-run `lychd-crypt init` with the crypt\'s answers to write it again.' });
  }
  if (e?.version !== 1 || !e.name || !e.config?.crypt?.path || !e.identity || !e.stateDir) {
    throw new CryptError(`the registry entry ${file} is incomplete`, { hint: 'Re-run `lychd-crypt init` with the crypt\'s answers to write it again.' });
  }
  return e;
}

/** Every registered crypt; an empty list when there is no registry yet. Only a root-owned registry is read. */
export async function readRegistry(dir: string): Promise<RegistryEntry[]> {
  const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw e;
  });
  if (!names.length) return [];
  await assertRootsOwn(dir, 'registry');
  const out: RegistryEntry[] = [];
  for (const n of names.filter((f) => f.endsWith('.json')).sort()) {
    const file = path.join(dir, n);
    await assertRootsOwn(file, 'registry entry');
    out.push(parseEntry(file, await readFile(file, 'utf8')));
  }
  return out;
}

export async function writeEntry(dir: string, entry: RegistryEntry): Promise<void> {
  if (!NAME_PATTERN.test(entry.name)) throw new UsageError(`crypt.name: "${entry.name}" is not a plain name (a-z, 0-9, - and _)`);
  await assertRootsOwn(dir, 'registry');
  await writeJsonAtomic(entryFile(dir, entry.name), entry, { mode: 0o644 });
}

/** Removes a crypt's entry (deinit's last step): unlinked, and the directory synced so it stays gone. */
export async function removeEntry(dir: string, name: string): Promise<boolean> {
  if (!NAME_PATTERN.test(name)) throw new UsageError(`crypt.name: "${name}" is not a plain name (a-z, 0-9, - and _)`);
  await assertRootsOwn(dir, 'registry');
  try {
    await unlink(entryFile(dir, name));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  await fsyncDir(dir);
  return true;
}

/**
 * A crypt deinit left with its data (no --delete-data): its last registry entry, kept by root under
 * `<registry.state>/released/<name>.json`, so that init with the same answers recognises the image,
 * partition or directory as this crypt's own again (an unregistered Btrfs is otherwise refused) — only
 * when what is there is still that filesystem. init removes it once the crypt is registered again.
 */
export const releasedFile = (stateDir: string, name: string): string => path.join(stateDir, 'released', `${name}.json`);

export async function writeReleased(stateDir: string, entry: RegistryEntry): Promise<void> {
  const dir = path.dirname(releasedFile(stateDir, entry.name));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await assertRootsOwn(dir, 'released crypts');
  const { deinit: _mark, ...kept } = entry;
  await writeJsonAtomic(releasedFile(stateDir, entry.name), kept, { mode: 0o600 });
}

/** The released entry of `name`, or null (none, or not root's alone: never trusted then). */
export async function readReleased(stateDir: string, name: string): Promise<RegistryEntry | null> {
  if (!NAME_PATTERN.test(name)) return null;
  const file = releasedFile(stateDir, name);
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    await assertRootsOwn(file, 'released crypt');
    return parseEntry(file, text);
  } catch {
    return null;
  }
}

export async function removeReleased(stateDir: string, name: string): Promise<void> {
  if (NAME_PATTERN.test(name)) await rm(releasedFile(stateDir, name), { force: true });
}
