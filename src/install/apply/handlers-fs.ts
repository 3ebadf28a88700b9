// Handlers for directories, files, the image, the copy of existing data and the runtime command. Those that
// act in a user's tree (the crypt path's directories, the state directory) work on descriptors, not paths.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readFile, readlink, realpath, rename, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { CommandError, CryptError } from '../../base/errors.js';
import { exists, writeFileAtomic } from '../../base/sys/fs.js';
import { copyArgv, migrationMarker } from '../plan/actions.js';
import type { CryptFs, Step } from '../../model/steps.js';
import { chownDir, closeDir, NotFollowedError, openDir, rmdirAt, unlinkAt, type Dir } from '../../base/sys/fd.js';
import { openTrustedDirOrThrow } from '../../base/sys/trusted-path.js';
import { withinCryptFs } from './crypt-fs.js';
import { changed, unchanged, type ApplyContext, type Outcome } from './context.js';
import { installRuntimeDir } from './install-runtime.js';

type S<K extends Step['kind']> = Extract<Step, { kind: K }>;

export async function isDir(p: string): Promise<boolean> {
  return (await lstat(p).catch(() => null))?.isDirectory() ?? false;
}

/** The parent of `p`: through the checked filesystem when `fs` is given, else walked from / without following a user's link. */
async function withParent<T>(p: string, fs: CryptFs | undefined, fn: (parent: Dir, name: string) => Promise<T>): Promise<T> {
  if (fs) return withinCryptFs(fs, path.dirname(p), (parent) => fn(parent, path.basename(p)));
  const parent = await openTrustedDirOrThrow(path.dirname(p));
  try {
    return await fn(parent, path.basename(p));
  } finally {
    await closeDir(parent);
  }
}

export async function createDir(s: S<'create-dir'>): Promise<Outcome> {
  return withParent(s.path, s.fs, async (parent, name) => {
    const st = await lstat(`${parent.anchor}/${name}`).catch(() => null);
    if (st?.isDirectory()) return unchanged('exists');
    if (st) {
      throw new NotFollowedError(`${s.path} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}; it is not followed and nothing was made there`, {
        hint: `Move it away (a directory is made in its place), then run the command again.`,
      });
    }
    await mkdir(`${parent.anchor}/${name}`, { mode: s.mode }); // mkdir never follows its last component
    const dir = await openDir(name, parent);
    try {
      await chownDir(dir, s.owner.uid, s.owner.gid, s.mode); // the umask must not narrow it
    } finally {
      await closeDir(dir);
    }
    return changed();
  });
}

export async function removeDir(s: S<'remove-dir'>): Promise<Outcome> {
  return withParent(s.path, undefined, async (parent, name) => {
    if (!(await isDir(`${parent.anchor}/${name}`))) return unchanged('absent');
    await rmdirAt(parent, name); // only an empty directory: never deletes data
    return changed();
  });
}

export async function createImage(s: S<'create-image'>, ctx: ApplyContext): Promise<Outcome> {
  const st = await stat(s.path).catch(() => null);
  if (st && st.size === s.sizeBytes) return unchanged('exists with this size');
  if (!st) {
    const fh = await open(s.path, 'wx', 0o600);
    await fh.close();
  }
  // chattr +C only takes effect on an empty file, so it comes before the size (also when an earlier run
  // stopped right after creating the file).
  if (s.nocow && (!st || st.size === 0)) await ctx.runner.run(['chattr', '+C', s.path]);
  await ctx.runner.run(['truncate', '-s', String(s.sizeBytes), s.path]);
  return changed();
}

/**
 * The original directory moves aside as a backup; an empty one with the same owner and mode replaces it.
 * Both names are in one directory, opened without following a user's link: the rename happens where
 * root looked, and the new directory is made there, not wherever a swapped path would lead.
 */
export async function moveAside(s: S<'move-aside'>): Promise<Outcome> {
  if (path.dirname(s.to) !== path.dirname(s.from)) throw new Error(`move-aside keeps the backup beside the original, not at ${s.to}`);
  return withParent(s.from, undefined, async (parent, name) => {
    const at = (n: string) => `${parent.anchor}/${n}`;
    if (await exists(at(path.basename(s.to)))) return unchanged(`${s.to} exists already`);
    const st = await lstat(at(name));
    if (!st.isDirectory()) throw new NotFollowedError(`${s.from} is not a directory (a symbolic link?); nothing was moved`, { hint: 'Put the directory back and run init again.' });
    await rename(at(name), at(path.basename(s.to)));
    await mkdir(at(name), { mode: st.mode & 0o7777 });
    const dir = await openDir(name, parent);
    try {
      await chownDir(dir, st.uid, st.gid, st.mode & 0o7777);
      if (s.marker) await writeFileAtomic(`${dir.anchor}/${path.basename(s.marker)}`, migrationMarker(s.to), { mode: 0o644 });
    } finally {
      await closeDir(dir);
    }
    return changed();
  });
}

/**
 * The copy runs as the crypt's user (copyArgv): root reads and writes none of their files. Its target
 * is active/ opened through the checked filesystem and handed over as a descriptor, so the user cannot
 * redirect it by renaming their directories, and the copy reaches nothing the user could not.
 */
export async function copyData(s: S<'copy-data'>, ctx: ApplyContext): Promise<Outcome> {
  await withinCryptFs(s.fs, s.to, async (to) => {
    try {
      await ctx.runner.run(copyArgv(s), { fds: [to.fd], cwd: '/' });
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      throw new CryptError(`copying the existing data from ${s.from} as ${s.as.user} failed: ${e.message}`, {
        cause: e,
        hint: `The copy runs as ${s.as.user}: files ${s.as.user} cannot read stay behind. Give them to ${s.as.user} or move them away; the original in ${s.from} is untouched. Then run init again.`,
      });
    }
  });
  if (s.marker) await withinCryptFs(s.fs, path.dirname(s.marker), (dir) => unlinkAt(dir, path.basename(s.marker!)));
  return changed(`${s.entries.length} entries`);
}

export async function sameFile(p: string, content: string | Buffer, mode: number): Promise<boolean> {
  try {
    const [cur, st] = await Promise.all([readFile(p), stat(p)]);
    return cur.equals(Buffer.isBuffer(content) ? content : Buffer.from(content)) && (st.mode & 0o7777) === mode;
  } catch {
    return false;
  }
}

export async function writeFile(s: S<'write-file'>): Promise<Outcome> {
  if (await sameFile(s.path, s.content, s.mode)) return unchanged('same content');
  await writeFileAtomic(s.path, s.content, { mode: s.mode });
  return changed();
}

export async function installRuntime(s: S<'install-runtime'>): Promise<Outcome> {
  if (s.link) return linkRuntime(s.source, s.target);
  return installRuntimeDir(s.source, s.target, linkRuntime);
}

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
