// Handlers for directories, files, the image, the copy of existing data and the runtime command.
import { randomBytes } from 'node:crypto';
import { chmod, chown, lstat, mkdir, open, readFile, readlink, realpath, rename, rm, rmdir, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { exists, writeFileAtomic } from '../core/fs.js';
import { copyArgv, migrationMarker } from '../plan/actions.js';
import type { Step } from '../plan/steps.js';
import { changed, unchanged, type ApplyContext, type Outcome } from './context.js';
import { installRuntimeDir } from './install-runtime.js';

type S<K extends Step['kind']> = Extract<Step, { kind: K }>;

export async function isDir(p: string): Promise<boolean> {
  return (await lstat(p).catch(() => null))?.isDirectory() ?? false;
}

export async function createDir(s: S<'create-dir'>): Promise<Outcome> {
  if (await isDir(s.path)) return unchanged('exists');
  await mkdir(s.path, { mode: s.mode });
  await chown(s.path, s.owner.uid, s.owner.gid);
  await chmod(s.path, s.mode); // umask must not narrow it
  return changed();
}

export async function removeDir(s: S<'remove-dir'>): Promise<Outcome> {
  if (!(await isDir(s.path))) return unchanged('absent');
  await rmdir(s.path); // only an empty directory: never deletes data
  return changed();
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

/** The original directory moves aside as a backup; an empty one with the same owner and mode replaces it. */
export async function moveAside(s: S<'move-aside'>): Promise<Outcome> {
  if (await exists(s.to)) return unchanged(`${s.to} exists already`);
  const st = await stat(s.from);
  await rename(s.from, s.to);
  await mkdir(s.from, { mode: st.mode & 0o7777 });
  await chown(s.from, st.uid, st.gid);
  await chmod(s.from, st.mode & 0o7777);
  if (s.marker) await writeFileAtomic(s.marker, migrationMarker(s.to), { mode: 0o644 });
  return changed();
}

export async function copyData(s: S<'copy-data'>, ctx: ApplyContext): Promise<Outcome> {
  await ctx.runner.run(copyArgv(s));
  if (s.marker) await rm(s.marker, { force: true });
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
