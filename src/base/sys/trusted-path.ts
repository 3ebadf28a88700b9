// Opens a directory named by an absolute path the way root may walk into a user's tree: one component at a
// time without following a symbolic link (as openDir does), except a link that only root — or, for a user's
// own process, that user — could have made, so /home -> /var/home still works and a link a user planted
// (~/.local/state -> /etc) is refused, whatever is renamed meanwhile (SPEC section 8).
import { fstatSync, lstatSync, mkdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { chownDir, closeDir, FdError, NotFollowedError, openDir, splitAnchor, type Dir } from './fd.js';

const ENOENT = 2;
const MAX_LINKS = 40;

export interface TrustedOpenOptions {
  /** Makes missing directories (through the fd of their parent, never through a link) with this mode and owner. */
  create?: { mode: number; owner?: { uid: number; gid: number } };
}

/** A link in `dir` is trusted when the directory is root's (or our own) and nobody else may write it. */
function linksTrusted(dir: Dir): boolean {
  const st = fstatSync(dir.fd);
  return (st.uid === 0 || st.uid === process.geteuid?.()) && (st.mode & 0o022) === 0;
}

function refuse(shown: string, isLink: boolean): NotFollowedError {
  return new NotFollowedError(
    isLink
      ? `${shown} is a symbolic link in a directory another user can write; it is not followed and nothing was made through it`
      : `${shown} is not a directory; nothing was made there`,
    { hint: `Replace ${shown} with a real directory (or remove it: it is made again), then run the command again.` },
  );
}

const shownIn = (parent: Dir, name: string) => `${parent.path === '/' ? '' : parent.path}/${name}`;

/** `name` in `parent`, made when missing (when asked) and opened without following a link. */
async function step(parent: Dir, name: string, opts: TrustedOpenOptions): Promise<Dir | 'link' | 'missing'> {
  try {
    return await openDir(name, parent);
  } catch (e) {
    if (e instanceof NotFollowedError) {
      if (lstatSync(`${parent.anchor}/${name}`, { throwIfNoEntry: false })?.isSymbolicLink()) return 'link';
      throw refuse(shownIn(parent, name), false);
    }
    if (!(e instanceof FdError && e.errno === ENOENT)) throw e;
  }
  if (!opts.create) return 'missing';
  try {
    // mkdir never follows its last component: a link put there meanwhile makes it fail, not follow.
    mkdirSync(`${parent.anchor}/${name}`, { mode: opts.create.mode });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return step(parent, name, {});
    throw new FdError('mkdir', shownIn(parent, name), -(e as NodeJS.ErrnoException).errno!);
  }
  const made = await openDir(name, parent);
  const owner = opts.create.owner ?? { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 };
  await chownDir(made, owner.uid, owner.gid, opts.create.mode); // the umask must not narrow it
  return made;
}

/** Opens the directory `abs` (see the top of this file); null when part of it is missing and `create` is not given. */
export async function openTrustedDir(abs: string, opts: TrustedOpenOptions = {}): Promise<Dir | null> {
  if (!path.isAbsolute(abs)) throw new Error(`openTrustedDir takes an absolute path, got ${abs}`);
  // A path through one of our fd anchors starts at that fd: it was checked when it was opened.
  const anchored = splitAnchor(abs);
  let todo = (anchored ? anchored.rest : path.resolve(abs)).split('/').filter(Boolean);
  let cur = await openDir(anchored ? abs.slice(0, abs.length - anchored.rest.length) : '/');
  let links = 0;
  try {
    while (todo.length) {
      const name = todo.shift()!;
      const next = await step(cur, name, opts);
      if (next === 'missing') {
        await closeDir(cur);
        return null;
      }
      if (next === 'link') {
        if (!linksTrusted(cur) || ++links > MAX_LINKS) throw refuse(shownIn(cur, name), true);
        // cur.path has no link in it (each was resolved so far), so '..' in the target is plain text here.
        todo = [...path.resolve(cur.path, readlinkSync(`${cur.anchor}/${name}`)).split('/').filter(Boolean), ...todo];
        const top = await openDir('/');
        await closeDir(cur);
        cur = top;
        continue;
      }
      await closeDir(cur);
      cur = next;
    }
    return cur;
  } catch (e) {
    await closeDir(cur);
    throw e;
  }
}

/** openTrustedDir for a path that must exist (or is made). */
export async function openTrustedDirOrThrow(abs: string, opts: TrustedOpenOptions = {}): Promise<Dir> {
  const dir = await openTrustedDir(abs, opts);
  if (!dir) throw new FdError('open', abs, ENOENT);
  return dir;
}
