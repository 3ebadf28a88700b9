// A directory of received copies on a Btrfs target (the ssh receiver's and a local path target's): root's,
// 0700 (the files keep the sender's numeric owners, which mean nothing here), one crypt's copies only.
//   DIR/.lychd-receiver.json   which crypt this directory holds (its name; host and filesystem for people)
//   DIR/.lock                  one receiver at a time (flock; the kernel drops it with its holder)
//   DIR/NAME/                  a received subvolume: read-only, received UUID = the snapshot's origin UUID
//   DIR/NAME.json              the header it came with + what the receiver found (received.ctransid)
// A copy is complete only when all of that agrees; anything else of the snapshot-name grammar (a writable
// or unfinished subvolume, a subvolume without sidecar, a sidecar without subvolume, a temporary file) is
// the leftover of an interrupted transfer, removed under the lock before any answer, never listed.
import { fstatSync, readdirSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { RefusedError } from '../../../base/errors.js';
import type { Runner } from '../../../base/runner.js';
import { withLock } from '../../../base/crypt/lock.js';
import { registerAnchor } from '../../../base/anchors.js';
import { btrfsFsUuid, closeDir, FdError, openDir, subvolInfo, unlinkAt, type Dir, type SubvolInfo } from '../../../base/sys/fd.js';
import { openTrustedDirOrThrow } from '../../../base/sys/trusted-path.js';
import { readTextSafely } from '../../../base/sys/read-file.js';
import { writeJsonAtomic } from '../../../base/sys/fs.js';
import { isSnapshotName } from '../../snapshots/names.js';
import { MAX_HEADER_BYTES, type Sidecar } from '../stream/header.js';
import type { Copy } from '../stream/target.js';

export const BINDING = '.lychd-receiver.json';
const ENOTTY = 25;

export interface Store {
  dir: Dir;
  /** The directory as configured, for messages. */
  shown: string;
  fsUuid: string;
}

export interface Leftover {
  name: string;
  kind: 'subvolume' | 'file';
  why: string;
}

/** Opens DIR, refusing what would expose or mix copies: not root's, readable by others, not on Btrfs. */
export async function openStore(dirPath: string): Promise<Store> {
  const dir = await openTrustedDirOrThrow(dirPath);
  try {
    const st = fstatSync(dir.fd);
    if (st.uid !== 0 || (st.mode & 0o077) !== 0) {
      throw new RefusedError(`${dirPath} must be root's and mode 0700 (it is uid ${st.uid}, mode 0${(st.mode & 0o777).toString(8)}): the copies keep the sender's file owners; nothing was changed`, {
        hint: `Run \`chown root: ${dirPath} && chmod 0700 ${dirPath}\`, or let \`lychd-crypt init --receiver ${dirPath} --authorize KEY\` make it (docs/replicate.md).`,
      });
    }
    const fsUuid = await btrfsFsUuid(dir).catch((e: unknown) => {
      if (e instanceof FdError && e.errno === ENOTTY) throw new RefusedError(`${dirPath} is not on a Btrfs filesystem: btrfs receive needs one; nothing was changed`);
      throw e;
    });
    // Messages name the directory, never the descriptor path it is reached through.
    registerAnchor(dir.anchor, dirPath);
    return { dir, shown: dirPath, fsUuid };
  } catch (e) {
    await closeDir(dir);
    throw e;
  }
}

export const closeStore = (s: Store): Promise<void> => closeDir(s.dir);

/** The path of an entry, through the directory's descriptor (the receiver never resolves DIR again). */
export const inStore = (s: Store, name: string): string => `${s.dir.anchor}/${name}`;

/** Runs fn holding the store's lock (waiting up to waitSeconds; then exit 4). */
export function withStoreLock<T>(s: Store, waitSeconds: number, fn: () => Promise<T>): Promise<T> {
  return withLock(inStore(s, '.lock'), { waitSeconds, operation: 'receive' }, fn);
}

/** Which crypt's copies DIR holds (null: none yet). */
export async function readBinding(s: Store): Promise<{ crypt: string; host: string; fsUuid: string } | null> {
  const text = await readTextSafely({ dir: s.dir, name: BINDING }, { maxBytes: 64 * 1024, owners: [0] });
  if (text === undefined) return null;
  const b = JSON.parse(text) as { origin?: { crypt?: unknown; host?: unknown; fsUuid?: unknown } };
  return { crypt: String(b.origin?.crypt ?? ''), host: String(b.origin?.host ?? ''), fsUuid: String(b.origin?.fsUuid ?? '') };
}

/**
 * One directory holds one crypt's copies (retention there would otherwise delete another's): the first
 * receive records which; later ones must come from a crypt of that name. The host and filesystem may change
 * (a host restored from these copies replicates on into them).
 */
export async function bindStore(s: Store, from: Sidecar['from']): Promise<void> {
  const bound = await readBinding(s);
  if (bound && bound.crypt !== from.crypt) {
    throw new RefusedError(`${s.shown} holds the copies of the crypt "${bound.crypt}" (from ${bound.host}), not of "${from.crypt}"; nothing was received`, {
      hint: 'Give each crypt a directory of its own on the target, and its own key (`lychd-crypt init --receiver DIR --authorize KEY` there; docs/replicate.md).',
    });
  }
  if (!bound) await writeJsonAtomic(inStore(s, BINDING), { format: 1, origin: { crypt: from.crypt, host: from.host, fsUuid: from.fsUuid }, createdAt: new Date().toISOString() }, { mode: 0o600 });
}

async function readSidecar(s: Store, name: string): Promise<Sidecar | string> {
  let text: string | undefined;
  try {
    text = await readTextSafely({ dir: s.dir, name: `${name}.json` }, { maxBytes: MAX_HEADER_BYTES, owners: [0] });
  } catch (e) {
    return (e as Error).message;
  }
  if (text === undefined) return 'it has no sidecar (the transfer did not finish)';
  try {
    return await (await import('../stream/header-schema.js')).parseHeaderText(text);
  } catch (e) {
    return (e as Error).message;
  }
}

/** Why the subvolume NAME with these facts and this sidecar is not a complete copy, or null. */
export function copyProblem(name: string, info: SubvolInfo, sidecar: Sidecar | string): string | null {
  if (!info.readonly || info.receivedUuid === null) return 'half-received (writable, or without a received UUID)';
  if (typeof sidecar === 'string') return sidecar;
  if (sidecar.snapshot.name !== name) return `its sidecar names ${sidecar.snapshot.name}`;
  if (sidecar.origin.uuid !== info.receivedUuid) return `its received UUID ${info.receivedUuid} is not the sidecar's ${sidecar.origin.uuid}`;
  if (!sidecar.received) return 'its sidecar has no receive record';
  if (sidecar.received.ctransid !== info.ctransid) return `changed after it was received (ctransid ${info.ctransid}, received at ${sidecar.received.ctransid})`;
  return null;
}

export function copyOf(sidecar: Sidecar): Copy {
  const m = sidecar.snapshot;
  return {
    name: m.name,
    originUuid: sidecar.origin.uuid,
    parentOriginUuid: sidecar.origin.parentUuid,
    createdAt: m.createdAt,
    pinned: m.pinned === true,
    preRollback: m.origin.kind === 'pre-rollback',
    bytes: sidecar.received?.bytes ?? sidecar.stream?.bytes ?? null,
    sidecar,
  };
}

/** The complete copies (oldest first) and the leftovers of our grammar; entries of other names are not ours and stay. */
export async function scanStore(s: Store): Promise<{ copies: Copy[]; leftovers: Leftover[] }> {
  const entries = readdirSync(s.dir.anchor, { withFileTypes: true });
  const copies: Copy[] = [];
  const leftovers: Leftover[] = [];
  const dirs = new Set<string>();
  for (const e of entries) {
    if (e.isDirectory() && isSnapshotName(e.name)) dirs.add(e.name);
  }
  for (const name of [...dirs].sort()) {
    const d = await openDir(name, s.dir);
    let info: SubvolInfo | null;
    try {
      info = await subvolInfo(d).catch(() => null);
    } finally {
      await closeDir(d);
    }
    if (!info) continue; // a plain directory: not ours, left alone
    const sidecar = await readSidecar(s, name);
    const problem = copyProblem(name, info, sidecar);
    if (problem) leftovers.push({ name, kind: 'subvolume', why: problem });
    else if (copies.some((c) => c.originUuid === info.receivedUuid)) leftovers.push({ name, kind: 'subvolume', why: 'a second copy of the same snapshot' });
    else copies.push(copyOf(sidecar as Sidecar));
  }
  for (const e of entries) {
    const m = /^(.+)\.json$/.exec(e.name);
    if (e.isFile() && m && isSnapshotName(m[1]!) && !dirs.has(m[1]!)) leftovers.push({ name: e.name, kind: 'file', why: 'a sidecar without its copy' });
    // writeJsonAtomic's temporary files: `.NAME.json.<hex>.tmp`.
    const t = /^\.(.+)\.json\.[0-9a-f]+\.tmp$/.exec(e.name);
    if (e.isFile() && t && isSnapshotName(t[1]!)) leftovers.push({ name: e.name, kind: 'file', why: 'an unfinished sidecar' });
  }
  copies.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
  return { copies, leftovers };
}

/** Deletes one received subvolume (and its sidecar after it); the subvolume first, so a crash leaves a leftover, never a sidecar claiming a copy. */
export async function deleteEntry(s: Store, runner: Runner, name: string): Promise<void> {
  const d = await openDir(name, s.dir).catch(() => null);
  if (d) {
    await closeDir(d);
    await runner.run(['btrfs', 'subvolume', 'delete', '--commit-after', inStore(s, name)]);
  }
  await unlinkAt(s.dir, `${name}.json`);
}

/** Removes the leftovers; the names removed. */
export async function removeLeftovers(s: Store, runner: Runner, leftovers: readonly Leftover[]): Promise<string[]> {
  const done: string[] = [];
  for (const l of leftovers) {
    if (l.kind === 'subvolume') await deleteEntry(s, runner, l.name);
    else await unlinkAt(s.dir, l.name);
    done.push(l.name);
  }
  return done;
}

export function freeBytes(s: Store): number | null {
  try {
    const st = statfsSync(s.dir.anchor);
    return st.bavail * st.bsize;
  } catch {
    return null;
  }
}

/** A name as shown in messages (never a path through our descriptor). */
export const shownEntry = (s: Store, name: string): string => path.join(s.shown, name);
