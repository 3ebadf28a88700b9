// install-runtime: the runtime command `<binDir>/lychd-crypt`: a copy of the runtime directory — the single
// executable's, or the Node-run one's (./install-runtime-dir.ts) — or — the Debian package's runtime (link) — a symlink to it, so a package
// upgrade upgrades the crypt's command too.
import { randomBytes } from 'node:crypto';
import { mkdir, readlink, realpath, rename, symlink } from 'node:fs/promises';
import path from 'node:path';
import { CryptError } from '../../base/errors.js';
import { exists } from '../../base/sys/fs.js';
import { runtimeInstallDir } from '../../base/bundle/packaged.js';
import { installRuntimeDir, isInstalledBuild } from './install-runtime-dir.js';
import { changed, octal, satisfied, seq, unchanged, wouldChange, type Outcome, type StepModule, type StepOf } from './module.js';

/** target → source as a symlink, swapped in atomically (rename over a copy installed earlier). */
async function linkRuntime(source: string, target: string): Promise<Outcome> {
  if ((await readlink(target).catch(() => null)) === source) return unchanged('links to the packaged runtime');
  if ((await realpath(target).catch(() => null)) === (await realpath(source))) return unchanged('is the packaged runtime');
  await mkdir(path.dirname(target), { recursive: true });
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
  await symlink(source, tmp);
  await rename(tmp, target);
  return changed();
}

const NO_SOURCE = 'the runtime bundle is not available to install';

/** Installs (or links) the runtime command as the step says: its apply, also for the tests' fixtures. */
export async function installRuntime(s: StepOf<'install-runtime'>): Promise<Outcome> {
  if (!s.source) throw new CryptError(NO_SOURCE, { hint: 'Run `npm run build`, then repair with dist/sea/lychd-crypt.' });
  if (s.link) return linkRuntime(s.source, s.target);
  return installRuntimeDir(s.source, s.target, linkRuntime);
}

export const installRuntimeStep: StepModule<StepOf<'install-runtime'>> = {
  describe(s) {
    if (s.link && s.source) return seq(`use the packaged runtime as ${s.target}`, { op: `symlink ${s.target} -> ${s.source}` });
    return seq(
      `install the runtime command ${s.target}`,
      { op: `copy the runtime directory ${s.source ? `${path.dirname(s.source)}/` : '(none found: build it first)'} -> ${runtimeInstallDir(s.target)}/<version>-<digest>/ (root's; entry mode ${octal(s.mode)})` },
      { op: `symlink ${s.target} -> ${runtimeInstallDir(s.target)}/<version>-<digest>/${s.source ? path.basename(s.source) : 'lychd-crypt'}` },
    );
  },
  async probe(s) {
    if (!s.source) return wouldChange(NO_SOURCE);
    if (s.link) {
      if ((await readlink(s.target).catch(() => null)) === s.source) return satisfied('links to the packaged runtime');
      return (await realpath(s.target).catch(() => null)) === (await realpath(s.source).catch(() => '')) ? satisfied('is the packaged runtime') : wouldChange();
    }
    if (await isInstalledBuild(s.source, s.target, s.mode)) return satisfied('same version installed');
    return wouldChange((await exists(s.target)) ? 'another version is installed' : undefined);
  },
  apply: (s) => installRuntime(s),
};
