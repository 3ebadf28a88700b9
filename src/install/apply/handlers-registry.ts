// Handlers for the crypt's ownership and its registry entry: what makes root's later actions safe.
import { fstatSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { CryptError } from '../../base/errors.js';
import { chownDir, closeDir, FdError, type Dir } from '../../base/sys/fd.js';
import { openTrustedDirOrThrow } from '../../base/sys/trusted-path.js';
import { entryFile, writeEntry, type Identity, type RegistryEntry } from '../../base/registry/store.js';
import { identityOf, readIdentity } from '../../base/registry/identity.js';
import { withinCryptFs } from './crypt-fs.js';
import type { Step } from '../../model/steps.js';
import { changed, unchanged, type Outcome } from './context.js';

type S<K extends Step['kind']> = Extract<Step, { kind: K }>;

/** The directory `s.path`: through the checked filesystem when the step names one, else walked without following links. */
async function withOwnDir<T>(s: S<'own-dir'>, fn: (dir: Dir) => Promise<T>): Promise<T> {
  if (s.fs) return withinCryptFs(s.fs, s.path, fn);
  const dir = await openTrustedDirOrThrow(s.path);
  try {
    return await fn(dir);
  } finally {
    await closeDir(dir);
  }
}

export async function ownDir(s: S<'own-dir'>): Promise<Outcome> {
  return withOwnDir(s, async (dir) => {
    const st = fstatSync(dir.fd);
    if (st.uid === s.owner.uid && st.gid === s.owner.gid && (st.mode & 0o7777) === s.mode) return unchanged('owner and mode as wanted');
    await chownDir(dir, s.owner.uid, s.owner.gid, s.mode);
    return changed();
  });
}

/** The identity of what init built, read through the checked filesystem (or, without one, the crypt path walked without links). */
export async function builtIdentity(s: S<'register'>): Promise<Identity> {
  try {
    return s.fs ? await withinCryptFs(s.fs, s.fs.root, identityOf) : await readIdentity(s.config.crypt.path);
  } catch (e) {
    if (e instanceof FdError) throw new CryptError(`cannot read the identity of ${s.config.crypt.path}: ${e.message}`);
    throw e;
  }
}

export async function register(s: S<'register'>): Promise<Outcome> {
  if (s.provisionalUuid) return registerProvisional(s, s.provisionalUuid);
  const identity = await builtIdentity(s);
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
