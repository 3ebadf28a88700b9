// The registry: one root-owned JSON file per crypt (default /etc/lychd-crypt/<name>.json) holding its
// authoritative definition. init writes it; every runtime command reads the crypt's definition from
// here, never from the crypt itself (SPEC section 8).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../model/config.js';
import { CryptError, UsageError } from '../errors.js';
import { writeJsonAtomic } from '../sys/fs.js';
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

export interface RegistryEntry {
  version: 1;
  name: string;
  config: Config;
  identity: Identity;
  /** Journal, lock and the pg_ctl log directory of this crypt. */
  stateDir: string;
  registeredAt: string;
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
