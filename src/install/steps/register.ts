// register: the crypt recorded in the root-owned registry, with the identity read from what was built (fs
// UUID, root inode, active/ UUID) through the verified filesystem — what makes root's later actions safe.
// Right after mkfs (provisionalUuid): the filesystem UUID only (root inode 0 matches nothing, so no runtime
// command acts yet), completed by the last step.
import { readFile } from 'node:fs/promises';
import { CryptError } from '../../base/errors.js';
import { FdError } from '../../base/sys/fd.js';
import { entryFile, removeReleased, writeEntry, type Identity, type RegistryEntry } from '../../base/registry/store.js';
import { identityOf, readIdentity } from '../../base/registry/identity.js';
import { unifiedDiff } from '../render/diff.js';
import { verifyOp, withinCryptFs } from './crypt-fs.js';
import { readText } from './file-probe.js';
import { changed, satisfied, seq, unchanged, wouldChange, type Outcome, type StepModule, type StepOf } from './module.js';

type Register = StepOf<'register'>;

/** The identity of what init built, read through the checked filesystem (or, without one, the crypt path walked without links). */
async function builtIdentity(s: Register): Promise<Identity> {
  try {
    return s.fs ? await withinCryptFs(s.fs, s.fs.root, identityOf) : await readIdentity(s.config.crypt.path);
  } catch (e) {
    if (e instanceof FdError) throw new CryptError(`cannot read the identity of ${s.config.crypt.path}: ${e.message}`);
    throw e;
  }
}

const readEntry = (file: string) => readFile(file, 'utf8').then((t) => JSON.parse(t) as RegistryEntry, () => null);

async function registerProvisional(s: Register, fsUuid: string): Promise<Outcome> {
  const old = await readEntry(entryFile(s.dir, s.name));
  if (old?.identity.fsUuid === fsUuid) return unchanged('registered');
  const entry: RegistryEntry = { version: 1, name: s.name, config: s.config, identity: { fsUuid, rootIno: 0, activeUuid: '' }, stateDir: s.stateDir, registeredAt: new Date().toISOString() };
  await writeEntry(s.dir, entry);
  return changed('provisionally, until the layout is built');
}

export const register: StepModule<Register> = {
  describe(s) {
    if (s.provisionalUuid) {
      return seq(`record the new filesystem as the crypt "${s.name}"'s in ${s.dir}`, {
        op: `write ${s.dir}/${s.name}.json (root-owned, mode 0644) with the filesystem UUID ${s.provisionalUuid}; completed by the last step`,
      });
    }
    return seq(
      `register the crypt "${s.name}" in ${s.dir}`,
      !!s.fs && verifyOp(s.fs),
      { op: `read the identity of ${s.config.crypt.path} (filesystem UUID, root inode, active/ subvolume UUID)` },
      { op: `write ${s.dir}/${s.name}.json (root-owned, mode 0644): its definition, identity and state directory ${s.stateDir}` },
    );
  },
  async probe(s) {
    const file = entryFile(s.dir, s.name);
    const text = await readText(file);
    const old = text === null ? null : (JSON.parse(text) as RegistryEntry);
    if (s.provisionalUuid) return old?.identity.fsUuid === s.provisionalUuid ? satisfied('registered') : wouldChange(old ? 'updated' : 'new entry');
    // The identity is read from what is built; before that (a new crypt) the entry is new anyway.
    const identity = await builtIdentity(s).catch(() => null);
    if (!identity) return wouldChange(old ? 'updated once the crypt is built' : 'new entry');
    const entry: RegistryEntry = { version: 1, name: s.name, config: s.config, identity, stateDir: s.stateDir, registeredAt: old?.registeredAt ?? '(now)' };
    if (old && JSON.stringify(old) === JSON.stringify(entry)) return satisfied('registered as it is');
    return wouldChange(old ? undefined : 'new entry', unifiedDiff(text ?? '', `${JSON.stringify(entry, null, 2)}\n`, file));
  },
  async apply(s) {
    if (s.provisionalUuid) return registerProvisional(s, s.provisionalUuid);
    const identity = await builtIdentity(s);
    const old = await readEntry(entryFile(s.dir, s.name));
    const entry: RegistryEntry = { version: 1, name: s.name, config: s.config, identity, stateDir: s.stateDir, registeredAt: old?.registeredAt ?? new Date().toISOString() };
    if (old && JSON.stringify(old) === JSON.stringify(entry)) return unchanged('registered as it is');
    await writeEntry(s.dir, entry);
    // A crypt deinit had released (its data kept) is registered again: the released record has served.
    await removeReleased(s.config.registry.state, s.name);
    return changed(old ? 'updated' : undefined);
  },
};
