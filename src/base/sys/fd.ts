// fd-relative file access that never follows a symbolic link, and the unprivileged Btrfs ioctls, through
// koffi. Root reaches everything under a directory a user can write this way (SPEC section 8): a path is
// walked one component at a time with O_NOFOLLOW from an fd it already holds, so a rename or symlink swap
// between a check and a use cannot send it anywhere else.
import { getSystemErrorMap } from 'node:util';
import { libcHandle } from './libc.js';
import { CryptError, RefusedError } from '../errors.js';

const O_RDONLY = 0;
const O_WRONLY = 1;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_NOFOLLOW = 0o400000;
const O_DIRECTORY = 0o200000;
const O_CLOEXEC = 0o2000000;
const AT_REMOVEDIR = 0x200;

const ENOENT = 2;
const ENOTDIR = 20;
const ELOOP = 40;

// From <linux/btrfs.h> and <linux/fs.h> on x86_64 (_IOR/_IOW encode the argument size).
const BTRFS_IOC_FS_INFO = 2214630431;
const FS_INFO_SIZE = 1024;
const FS_INFO_FSID = 16;
/** struct btrfs_ioctl_fs_info_args: flags (in/out) at 48, metadata_uuid at 64 (Linux 5.0+). */
const FS_INFO_FLAGS = 48;
const FS_INFO_METADATA_UUID = 64;
const BTRFS_FS_INFO_FLAG_METADATA_UUID = 1n << 2n;
const BTRFS_IOC_GET_SUBVOL_INFO = 2180551740;
const SUBVOL_INFO_SIZE = 504;
const SUBVOL_INFO = { treeid: 0, generation: 280, flags: 288, uuid: 296, parentUuid: 312, otransid: 352, otime: 392 } as const;
// _IOWR(0x94, 61, struct btrfs_ioctl_get_subvol_rootref_args): min_treeid, 255 × {treeid, dirid}, num_items.
const BTRFS_IOC_GET_SUBVOL_ROOTREF = 0xd000943d;
const ROOTREF_SIZE = 4096;
const ROOTREF_NUM_ITEMS = 8 + 255 * 16;
const EOVERFLOW = 75;
// root item flags (BTRFS_ROOT_SUBVOL_RDONLY), not the SUBVOL_GETFLAGS bit.
const BTRFS_SUBVOL_RDONLY = 1n;
const FS_IOC_GETFLAGS = 2148034049;
const FS_IOC_SETFLAGS = 1074292226;
// _IOW(0x94, 14, struct btrfs_ioctl_vol_args): fd, name[4088] = 4096 bytes.
const BTRFS_IOC_SUBVOL_CREATE = 0x5000940e;
const VOL_ARGS = { size: 4096, name: 8, nameMax: 4087 } as const;
// _IOW(0x94, 23, struct btrfs_ioctl_vol_args_v2): fd, transid, flags, a 32-byte union, name[4040] = 4096 bytes.
const BTRFS_IOC_SNAP_CREATE_V2 = 0x50009417;
const VOL_ARGS_V2 = { size: 4096, fd: 0, flags: 16, name: 56, nameMax: 4039 } as const;
/** BTRFS_SUBVOL_RDONLY of the vol_args_v2 flags: create the snapshot read-only. */
const SNAP_RDONLY = 1n << 1n;
/** FS_NOCOW_FL: the `C` attribute of lsattr/chattr. */
export const FS_NOCOW_FL = 0x00800000;

interface Fns {
  openat: (dirfd: number, path: string, flags: number, mode: number) => number;
  close: (fd: number) => number;
  unlinkat: (dirfd: number, path: string, flags: number) => number;
  ioctl: (fd: number, req: number, arg: Buffer) => number;
  fchown: (fd: number, uid: number, gid: number) => number;
  fchmod: (fd: number, mode: number) => number;
  write: (fd: number, buf: Buffer, n: number) => number;
  fsync: (fd: number) => number;
  errno: () => number;
}

let fns: Promise<Fns> | undefined;

async function load(): Promise<Fns> {
  const { lib, errno } = await libcHandle();
  return {
    openat: lib.func('int openat(int, const char *, int, unsigned int)'),
    close: lib.func('int close(int)'),
    unlinkat: lib.func('int unlinkat(int, const char *, int)'),
    ioctl: lib.func('int ioctl(int, unsigned long, _Inout_ uint8_t *)'),
    fchown: lib.func('int fchown(int, unsigned int, unsigned int)'),
    fchmod: lib.func('int fchmod(int, unsigned int)'),
    write: lib.func('long write(int, const uint8_t *, unsigned long)'),
    fsync: lib.func('int fsync(int)'),
    errno,
  };
}

const libc = (): Promise<Fns> => (fns ??= load());

export class FdError extends CryptError {
  /** The errno's name (`ENOSPC`), as Node's own errors carry it: expected-errors classifies by it. */
  readonly code: string | undefined;
  constructor(
    readonly op: string,
    readonly target: string,
    readonly errno: number,
  ) {
    const [code, text] = getSystemErrorMap().get(-errno) ?? [];
    super(`${op} ${target} failed: ${text ? `${text} (${code})` : `errno ${errno}`}`);
    this.code = code;
  }
}

/** A symbolic link (or a non-directory) where a directory was expected: refused, never followed. */
export class NotFollowedError extends RefusedError {}

/** An open directory: `path` is where it was opened from (for messages), `fd` the handle everything goes through. */
export interface Dir {
  fd: number;
  path: string;
  /** A path that names this very directory (the kernel resolves it through the fd, not through `path`). */
  anchor: string;
}

const anchorOf = (fd: number): string => `/proc/${process.pid}/fd/${fd}`;

function components(rel: string): string[] {
  const parts = rel.split('/').filter((p) => p && p !== '.');
  if (parts.includes('..')) throw new RefusedError(`refusing the path ${rel}: it climbs out with ..`);
  return parts;
}

async function openComponent(c: Fns, dirfd: number, name: string, shown: string): Promise<number> {
  const fd = c.openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd >= 0) return fd;
  const errno = c.errno();
  if (errno === ELOOP || errno === ENOTDIR) {
    throw new NotFollowedError(`${shown} is a symbolic link or not a directory; it is not followed`, {
      hint: 'Something replaced part of the crypt path: check it (`ls -la`) and run `lychd-crypt doctor`.',
    });
  }
  throw new FdError('open', shown, errno);
}

/** `/proc/<our pid>/fd/<n>/rest`: a path through one of our own fds (see base/crypt/open.ts), split. */
export function splitAnchor(p: string): { fd: number; rest: string } | null {
  const m = /^\/proc\/(\d+)\/fd\/(\d+)(\/.*)?$/.exec(p);
  return m && Number(m[1]) === process.pid ? { fd: Number(m[2]), rest: m[3] ?? '' } : null;
}

/**
 * Opens `rel` below `from` (an absolute path walks from `/`), one component at a time, refusing every
 * symbolic link on the way. A path through one of our fd anchors starts at that fd.
 */
export async function openDir(rel: string, from?: Dir): Promise<Dir> {
  const anchored = from ? null : splitAnchor(rel);
  if (anchored) return openDir(anchored.rest, { fd: anchored.fd, path: rel.slice(0, rel.length - anchored.rest.length), anchor: rel.slice(0, rel.length - anchored.rest.length) });
  const c = await libc();
  let fd = from ? c.openat(from.fd, '.', O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0) : c.openat(-100, '/', O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) throw new FdError('open', from?.path ?? '/', c.errno());
  let shown = from?.path ?? '';
  try {
    for (const part of components(rel)) {
      shown = `${shown === '/' ? '' : shown}/${part}`;
      const next = await openComponent(c, fd, part, shown);
      c.close(fd);
      fd = next;
    }
  } catch (e) {
    c.close(fd);
    throw e;
  }
  return { fd, path: shown || '/', anchor: anchorOf(fd) };
}

/** Like openDir, but a missing final component gives null. */
export async function openDirIfExists(rel: string, from?: Dir): Promise<Dir | null> {
  try {
    return await openDir(rel, from);
  } catch (e) {
    if (e instanceof FdError && e.errno === ENOENT) return null;
    throw e;
  }
}

export async function closeDir(d: Dir | null | undefined): Promise<void> {
  if (d) (await libc()).close(d.fd);
}

/** Removes `name` in `dir` (a file; never follows a link, a symlink itself is removed); false when absent. */
export async function unlinkAt(dir: Dir, name: string): Promise<boolean> {
  if (name.includes('/')) throw new Error(`unlinkAt takes one name, got ${name}`);
  const c = await libc();
  if (c.unlinkat(dir.fd, name, 0) === 0) return true;
  const errno = c.errno();
  if (errno === ENOENT) return false;
  throw new FdError('unlink', `${dir.path}/${name}`, errno);
}

/** Removes an empty directory `name` in `dir`. */
export async function rmdirAt(dir: Dir, name: string): Promise<void> {
  const c = await libc();
  if (c.unlinkat(dir.fd, name, AT_REMOVEDIR) !== 0) throw new FdError('rmdir', `${dir.path}/${name}`, c.errno());
}

/** Creates `name` in `dir` exclusively (O_EXCL|O_NOFOLLOW: never through a planted link) and writes `text`. */
export async function createFileAt(dir: Dir, name: string, text: string, mode = 0o600, owner?: { uid: number; gid: number }): Promise<void> {
  const c = await libc();
  const fd = c.openat(dir.fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) throw new FdError('create', `${dir.path}/${name}`, c.errno());
  try {
    const buf = Buffer.from(text);
    if (buf.length && c.write(fd, buf, buf.length) !== buf.length) throw new FdError('write', `${dir.path}/${name}`, c.errno());
    if (owner && c.fchown(fd, owner.uid, owner.gid) !== 0) throw new FdError('chown', `${dir.path}/${name}`, c.errno());
    if (c.fsync(fd) !== 0) throw new FdError('fsync', `${dir.path}/${name}`, c.errno());
  } finally {
    c.close(fd);
  }
}

export async function chownDir(dir: Dir, uid: number, gid: number, mode?: number): Promise<void> {
  const c = await libc();
  if (c.fchown(dir.fd, uid, gid) !== 0) throw new FdError('chown', dir.path, c.errno());
  if (mode !== undefined && c.fchmod(dir.fd, mode) !== 0) throw new FdError('chmod', dir.path, c.errno());
}

async function ioctl(fd: number, req: number, size: number, what: string, buf = Buffer.alloc(size), op = 'ioctl'): Promise<Buffer> {
  const c = await libc();
  // GET_SUBVOL_INFO returns 1 on success on some kernels (a search result leaks out): only < 0 is an error.
  if (c.ioctl(fd, req, buf) < 0) throw new FdError(op, what, c.errno());
  return buf;
}

const uuidAt = (b: Buffer, off: number): string => {
  const h = b.subarray(off, off + 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** The filesystem UUID of the Btrfs filesystem holding `dir` (BTRFS_IOC_FS_INFO: no privilege needed). */
export async function btrfsFsUuid(dir: Dir): Promise<string> {
  return uuidAt(await ioctl(dir.fd, BTRFS_IOC_FS_INFO, FS_INFO_SIZE, dir.path), FS_INFO_FSID);
}

/**
 * The fsid the kernel uses for the filesystem holding `dir`, and the UUID its metadata carries on disk.
 * They differ under a temporary fsid (Linux 6.7+: a second mounted byte copy of a filesystem gets a random
 * fsid; its metadata UUID stays the original's) and with the metadata_uuid feature (btrfstune -m);
 * /sys/fs/btrfs/<fsid>/temp_fsid tells them apart. A kernel that does not fill metadata_uuid reports the fsid.
 */
export async function btrfsFsIds(dir: Dir): Promise<{ fsid: string; metadataUuid: string }> {
  const arg = Buffer.alloc(FS_INFO_SIZE);
  arg.writeBigUInt64LE(BTRFS_FS_INFO_FLAG_METADATA_UUID, FS_INFO_FLAGS);
  const b = await ioctl(dir.fd, BTRFS_IOC_FS_INFO, FS_INFO_SIZE, dir.path, arg);
  const fsid = uuidAt(b, FS_INFO_FSID);
  const filled = (b.readBigUInt64LE(FS_INFO_FLAGS) & BTRFS_FS_INFO_FLAG_METADATA_UUID) !== 0n;
  return { fsid, metadataUuid: filled ? uuidAt(b, FS_INFO_METADATA_UUID) : fsid };
}

export interface SubvolInfo {
  id: number;
  uuid: string;
  parentUuid: string | null;
  generation: number;
  /** The generation it was created in ("Gen at creation"). */
  genAtCreation: number;
  readonly: boolean;
  /** Creation time (seconds since the epoch). */
  otime: number;
}

/**
 * Facts about the subvolume whose root `dir` is (BTRFS_IOC_GET_SUBVOL_INFO, Linux 4.18+): unlike
 * `btrfs subvolume show`, which searches the tree and needs CAP_SYS_ADMIN, any user may ask.
 */
export async function subvolInfo(dir: Dir): Promise<SubvolInfo> {
  const b = await ioctl(dir.fd, BTRFS_IOC_GET_SUBVOL_INFO, SUBVOL_INFO_SIZE, dir.path);
  const parent = uuidAt(b, SUBVOL_INFO.parentUuid);
  return {
    id: Number(b.readBigUInt64LE(SUBVOL_INFO.treeid)),
    uuid: uuidAt(b, SUBVOL_INFO.uuid),
    parentUuid: parent === NIL_UUID ? null : parent,
    generation: Number(b.readBigUInt64LE(SUBVOL_INFO.generation)),
    genAtCreation: Number(b.readBigUInt64LE(SUBVOL_INFO.otransid)),
    readonly: (b.readBigUInt64LE(SUBVOL_INFO.flags) & BTRFS_SUBVOL_RDONLY) !== 0n,
    otime: Number(b.readBigUInt64LE(SUBVOL_INFO.otime)),
  };
}

/**
 * How many subvolumes sit directly inside the subvolume whose root `dir` is (BTRFS_IOC_GET_SUBVOL_ROOTREF,
 * Linux 4.18+, no privilege needed): one ioctl instead of two `btrfs` processes when, as usual, it is 0.
 * More than one buffer's worth (255) is reported as 256.
 */
export async function childSubvolumeCount(dir: Dir): Promise<number> {
  try {
    return (await ioctl(dir.fd, BTRFS_IOC_GET_SUBVOL_ROOTREF, ROOTREF_SIZE, dir.path)).readUInt8(ROOTREF_NUM_ITEMS);
  } catch (e) {
    if (e instanceof FdError && e.errno === EOVERFLOW) return 256;
    throw e;
  }
}

/** The inode flags of `dir` (FS_IOC_GETFLAGS), e.g. FS_NOCOW_FL. */
export async function inodeFlags(dir: Dir): Promise<number> {
  return (await ioctl(dir.fd, FS_IOC_GETFLAGS, 8, dir.path)).readInt32LE(0);
}

/** Sets the inode flags of `dir` (FS_IOC_SETFLAGS): what `chattr` does, on an fd instead of a path. */
export async function setInodeFlags(dir: Dir, flags: number): Promise<void> {
  const buf = Buffer.alloc(8);
  buf.writeInt32LE(flags, 0);
  await ioctl(dir.fd, FS_IOC_SETFLAGS, 8, dir.path, buf, 'set the flags of');
}

function subvolumeName(name: string, max: number): Buffer {
  const bytes = Buffer.from(name);
  if (!name || name === '.' || name === '..' || name.includes('/') || bytes.includes(0) || bytes.length > max) {
    throw new Error(`not a subvolume name: ${JSON.stringify(name)}`);
  }
  return bytes;
}

/**
 * Creates the subvolume `name` inside `parent` (BTRFS_IOC_SUBVOL_CREATE, what `btrfs subvolume create`
 * calls): the parent is an fd opened without following links, so the new subvolume lands where root
 * checked, whatever is renamed meanwhile. Like mkdir, an existing `name` (a link too) fails with EEXIST.
 */
export async function createSubvolumeAt(parent: Dir, name: string): Promise<void> {
  const args = Buffer.alloc(VOL_ARGS.size);
  subvolumeName(name, VOL_ARGS.nameMax).copy(args, VOL_ARGS.name);
  await ioctl(parent.fd, BTRFS_IOC_SUBVOL_CREATE, VOL_ARGS.size, `${parent.path}/${name}`, args, 'create the subvolume');
}

/**
 * Snapshots the subvolume whose root `src` is as `name` inside `parent` (BTRFS_IOC_SNAP_CREATE_V2, what
 * `btrfs subvolume snapshot [-r]` calls): no process to start, and both ends are fds opened without
 * following links. The kernel commits the transaction before it returns, so the snapshot is durable.
 * Its owner may snapshot a subvolume without privilege, as with btrfs-progs. The call is synchronous: the
 * event loop waits for the kernel (the Ritual awaited the btrfs process at this point before).
 */
export async function snapshotAt(src: Dir, parent: Dir, name: string, opts: { readonly: boolean }): Promise<void> {
  const bytes = subvolumeName(name, VOL_ARGS_V2.nameMax);
  const args = Buffer.alloc(VOL_ARGS_V2.size);
  args.writeBigInt64LE(BigInt(src.fd), VOL_ARGS_V2.fd);
  args.writeBigUInt64LE(opts.readonly ? SNAP_RDONLY : 0n, VOL_ARGS_V2.flags);
  bytes.copy(args, VOL_ARGS_V2.name);
  await ioctl(parent.fd, BTRFS_IOC_SNAP_CREATE_V2, VOL_ARGS_V2.size, `${src.path} -> ${parent.path}/${name}`, args, 'snapshot');
}
