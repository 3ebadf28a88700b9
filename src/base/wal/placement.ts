// Where an outside WAL root (postgres.walDir) may be: on the host's own durable filesystem, never inside the
// crypt or on its filesystem, never on a loop device (that flush path is exactly what the outside WAL leaves)
// or tmpfs (gone at reboot), owned by root or the crypt's owner and writable by nobody else, on a trusted
// path, holding nothing but this crypt's gen-* directories. Facts are read here; the judgement is pure.
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { isMountPoint, mountHoldingPath, readMountinfo } from '../sys/mountinfo.js';
import { exists } from '../sys/fs.js';

export const GEN_PREFIX = 'gen-';
/** A generation's name: the Btrfs UUID of the subvolume whose PGDATA links to it. */
export const genName = (uuid: string): string => `${GEN_PREFIX}${uuid}`;
export const isGenName = (name: string): boolean => /^gen-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(name);

export interface PathOwner {
  path: string;
  uid: number;
  mode: number;
  isLink: boolean;
}

export interface WalPlacementFacts {
  walDir: string;
  /** The nearest existing ancestor (walDir itself when it exists) and its real path. */
  existing: string;
  real: string;
  walDirExists: boolean;
  walDirIsDir: boolean;
  dev: number;
  /** st_dev of the crypt's top (null: not there). */
  cryptDev: number | null;
  cryptReal: string | null;
  fstype: string;
  source: string;
  loop: boolean;
  /**
   * LYCHD_CRYPT_WAL_ALLOW_LOOP=1: a loop device is accepted. A loop device is slow for the WAL, not unsafe;
   * the power-cut tests need it, as the host filesystem they record is one (docs/powercut.md).
   */
  loopAllowed: boolean;
  /** walDir (when it exists) and each existing ancestor up to /. */
  owners: PathOwner[];
  /** walDir's entries (null when it does not exist). */
  entries: string[] | null;
}

export async function readWalPlacement(walDir: string, cryptPath: string): Promise<WalPlacementFacts> {
  let existing = walDir;
  while (!(await lstat(existing).then(() => true, () => false)) && existing !== '/') existing = path.dirname(existing);
  const real = await realpath(existing);
  const st = await stat(real);
  const walSt = await lstat(walDir).catch(() => null);
  // The crypt's own filesystem only when something is mounted there (a native crypt is a directory of the host's).
  const cryptSt = (await isMountPoint(cryptPath)) ? await stat(cryptPath).catch(() => null) : null;
  const mount = mountHoldingPath(await readMountinfo(), real);
  const loop = Boolean(mount && (/^\/dev\/loop\d+$/.test(mount.source) || (await exists(`/sys/dev/block/${mount.majMin}/loop`))));
  const owners: PathOwner[] = [];
  for (let p = existing; ; p = path.dirname(p)) {
    const s = await lstat(p);
    owners.push({ path: p, uid: s.uid, mode: s.mode & 0o7777, isLink: s.isSymbolicLink() });
    if (p === '/') break;
  }
  return {
    walDir,
    existing,
    real,
    walDirExists: Boolean(walSt),
    walDirIsDir: Boolean(walSt?.isDirectory()),
    dev: st.dev,
    cryptDev: cryptSt?.dev ?? null,
    cryptReal: await realpath(cryptPath).catch(() => null),
    fstype: mount?.fstype ?? 'unknown',
    source: mount?.source ?? 'unknown',
    loop,
    loopAllowed: process.env.LYCHD_CRYPT_WAL_ALLOW_LOOP === '1',
    owners,
    entries: walSt?.isDirectory() ? await readdir(walDir) : null,
  };
}

const inside = (p: string, dir: string): boolean => p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/**
 * What is wrong with the placement, each a sentence completing "postgres.walDir: …" (empty: fine).
 * `ownerUid`: the crypt's owner, who (besides root) may own walDir and its ancestors.
 */
export function judgeWalPlacement(f: WalPlacementFacts, c: { cryptPath: string; ownerUid: number }): string[] {
  const problems: string[] = [];
  const crypt = f.cryptReal ?? c.cryptPath;
  if (inside(f.walDir, c.cryptPath) || inside(f.real, crypt) || (f.cryptDev !== null && f.dev === f.cryptDev)) {
    problems.push(`${f.walDir} is inside the crypt (or on its filesystem): the WAL must be outside it, on the host's own filesystem`);
  }
  if (f.loop && !f.loopAllowed) problems.push(`${f.walDir} is on a loop device (${f.source}): that flush path is the one the outside WAL is meant to leave`);
  if (f.fstype === 'tmpfs' || f.fstype === 'ramfs') problems.push(`${f.walDir} is on ${f.fstype}: the WAL would be lost at reboot`);
  if (f.walDirExists && !f.walDirIsDir) problems.push(`${f.walDir} exists and is not a directory`);
  for (const o of f.owners) {
    const own = o.uid === 0 || o.uid === c.ownerUid;
    if (o.isLink && o.uid !== 0) problems.push(`${o.path} is a symbolic link of uid ${o.uid}: it is not followed`);
    else if (!own) problems.push(`${o.path} belongs to uid ${o.uid}, neither root nor the crypt's owner`);
    else if (!o.isLink && o.mode & 0o022 && !(o.mode & 0o1000 && o.path !== f.walDir)) {
      problems.push(`${o.path} is writable by ${o.mode & 0o002 ? 'others' : 'its group'} (mode ${o.mode.toString(8).padStart(4, '0')})`);
    }
  }
  const foreign = (f.entries ?? []).filter((n) => !isGenName(n));
  if (foreign.length) problems.push(`${f.walDir} holds ${foreign.slice(0, 3).map((n) => JSON.stringify(n)).join(', ')}${foreign.length > 3 ? ' …' : ''}: only this crypt's gen-* directories belong there`);
  return problems;
}
