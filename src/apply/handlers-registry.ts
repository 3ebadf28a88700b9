// Handlers for the crypt's ownership and its registry entry: what makes root's later actions safe.
import { lstat, readFile } from 'node:fs/promises';
import { CryptError } from '../core/errors.js';
import { chownDir, closeDir, FdError, openDir } from '../sys/fd.js';
import { entryFile, writeEntry, type RegistryEntry } from '../registry/store.js';
import { readIdentity } from '../registry/identity.js';
import type { Step } from '../plan/steps.js';
import { changed, unchanged, type Outcome } from './context.js';

type S<K extends Step['kind']> = Extract<Step, { kind: K }>;

export async function ownDir(s: S<'own-dir'>): Promise<Outcome> {
  const st = await lstat(s.path);
  if (!st.isDirectory()) throw new CryptError(`${s.path} is not a directory (a symbolic link?); nothing was changed there`);
  if (st.uid === s.owner.uid && st.gid === s.owner.gid && (st.mode & 0o7777) === s.mode) return unchanged('owner and mode as wanted');
  const dir = await openDir(s.path);
  try {
    await chownDir(dir, s.owner.uid, s.owner.gid, s.mode);
  } finally {
    await closeDir(dir);
  }
  return changed();
}

export async function register(s: S<'register'>): Promise<Outcome> {
  if (s.provisionalUuid) return registerProvisional(s, s.provisionalUuid);
  const identity = await readIdentity(s.config.crypt.path).catch((e: unknown) => {
    if (e instanceof FdError) throw new CryptError(`cannot read the identity of ${s.config.crypt.path}: ${e.message}`);
    throw e;
  });
  const file = entryFile(s.dir, s.name);
  const old = await readFile(file, 'utf8').then((t) => JSON.parse(t) as RegistryEntry, () => null);
  const entry: RegistryEntry = { version: 1, name: s.name, config: s.config, identity, stateDir: s.stateDir, registeredAt: old?.registeredAt ?? new Date().toISOString() };
  if (old && JSON.stringify(old) === JSON.stringify(entry)) return unchanged('registered as it is');
  await writeEntry(s.dir, entry);
  return changed(old ? 'updated' : undefined);
}


/** Right after mkfs: the filesystem UUID only (root inode 0 matches nothing, so no runtime command acts yet). */
async function registerProvisional(s: S<'register'>, fsUuid: string): Promise<Outcome> {
  const file = entryFile(s.dir, s.name);
  const old = await readFile(file, 'utf8').then((t) => JSON.parse(t) as RegistryEntry, () => null);
  if (old?.identity.fsUuid === fsUuid) return unchanged('registered');
  const entry: RegistryEntry = { version: 1, name: s.name, config: s.config, identity: { fsUuid, rootIno: 0, activeUuid: '' }, stateDir: s.stateDir, registeredAt: new Date().toISOString() };
  await writeEntry(s.dir, entry);
  return changed('provisionally, until the layout is built');
}
