// Installs a copy of the runtime directory (the single executable, or the Node-run entry, main.js and the
// vendored packages; the addon; the manifest) for `<binDir>/lychd-crypt`: into
// <prefix>/lib/lychd-crypt/<version>-<digest>/, root-owned and writable by root alone, then points the command
// at its entry by a symbolic link swapped in atomically. Files are cloned where the filesystem can (a reflink
// on Btrfs or XFS: the executable is ~110 MB, and two builds stay), else copied. A new build gets a new directory, so a
// command still running from the previous one keeps finding its files; that previous one is kept, older
// ones are removed. The source must match its own manifest: a damaged build is refused, not installed.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { CryptError } from '../../base/errors.js';
import { fsyncDir } from '../../base/sys/fs.js';
import { runtimeInstallDir } from '../../base/bundle/packaged.js';
import { buildId, fileDigest, MANIFEST, manifestProblems, readManifest } from '../../base/bundle/manifest.js';
import { changed, unchanged, type Outcome } from './module.js';

/** Is `dir` exactly the build (every listed file whole, root's, not writable by others)? */
async function isWholeCopy(dir: string): Promise<boolean> {
  if ((await manifestProblems(dir)).length) return false;
  for (const name of await readdir(dir)) {
    const st = await lstat(path.join(dir, name));
    if (!st.isFile() || st.uid !== (process.getuid?.() ?? 0) || st.mode & 0o022) return false;
  }
  const st = await lstat(dir);
  return st.isDirectory() && (st.mode & 0o022) === 0;
}

/**
 * Is `target` this very build of `source` (an entry in a runtime directory): the same manifest beside it, its
 * own bytes those the manifest lists, and `mode`? The other files are doctor's to check (runtime.installed).
 */
export async function isInstalledBuild(source: string, target: string, mode: number): Promise<boolean> {
  try {
    const [src, dst] = await Promise.all([realpath(source), realpath(target)]);
    if (path.basename(src) !== path.basename(dst)) return false;
    const [want, have] = await Promise.all([readManifest(path.dirname(src)), readManifest(path.dirname(dst))]);
    if (!want || !have || !want.raw.equals(have.raw)) return false;
    return ((await stat(dst)).mode & 0o7777) === mode && (await fileDigest(dst)) === want.manifest.files[path.basename(src)];
  } catch {
    return false;
  }
}

export async function installRuntimeDir(source: string, target: string, linkTo: (entry: string, target: string) => Promise<Outcome>): Promise<Outcome> {
  const real = await realpath(source);
  const srcDir = path.dirname(real);
  const entry = path.basename(real); // lychd-crypt (the single executable) or lychd-crypt.js
  const read = await readManifest(srcDir);
  const bad = read ? await manifestProblems(srcDir) : [`${MANIFEST} is missing`];
  if (!read || bad.length) {
    throw new CryptError(`the runtime at ${srcDir} is incomplete: ${bad.join('; ')}`, { hint: 'Rebuild it (npm run build) or reinstall the package, then run this again.' });
  }
  const base = runtimeInstallDir(target);
  const dest = path.join(base, buildId(read.manifest, read.raw));
  const previous = await realpath(target).then(path.dirname, () => null);

  let copied = false;
  if (path.resolve(srcDir) !== dest && !(await isWholeCopy(dest).catch(() => false))) {
    await mkdir(base, { recursive: true, mode: 0o755 });
    const tmp = path.join(base, `.${path.basename(dest)}.${randomBytes(4).toString('hex')}.tmp`);
    await mkdir(tmp, { mode: 0o755 });
    try {
      for (const name of [...Object.keys(read.manifest.files), MANIFEST]) {
        await copyFile(path.join(srcDir, name), path.join(tmp, name), constants.COPYFILE_FICLONE);
        await chmod(path.join(tmp, name), name === entry ? 0o755 : 0o644);
      }
      await chmod(tmp, 0o755); // whatever the umask
      // What was copied is checked again: a source changed while it was read is not installed.
      const copiedBad = await manifestProblems(tmp);
      if (copiedBad.length) throw new CryptError(`the runtime at ${srcDir} changed while it was copied: ${copiedBad.join('; ')}`, { hint: 'Run this again.' });
      await fsyncDir(tmp);
      await rm(dest, { recursive: true, force: true }); // a damaged copy of the same build
      await rename(tmp, dest);
      await fsyncDir(base);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    copied = true;
  }
  const linked = await linkTo(path.join(dest, entry), target);

  // Older builds go; the one the command pointed at until now stays for a command still running from it.
  for (const name of await readdir(base).catch(() => [])) {
    const p = path.join(base, name);
    if (p === dest || p === previous || name.startsWith('.')) continue;
    if ((await readManifest(p)) !== null) await rm(p, { recursive: true, force: true });
  }
  return copied || linked.changed ? changed() : unchanged('same version installed');
}
