// mount.writable and mount.errors: the crypt's filesystem accepts writes (not mounted read-only, not
// forced read-only by Btrfs after a write error), and Btrfs has counted no I/O or checksum errors
// (bit rot and failing disks show up here first).
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { readDeviceErrors, readDeviceErrorsSysfs, readWritability } from '../base/btrfs/fs-state.js';
import { btrfsFsUuid, closeDir, openDir } from '../base/sys/fd.js';

async function fsUuidOf(p: string): Promise<string> {
  const d = await openDir(p);
  try {
    return await btrfsFsUuid(d);
  } finally {
    await closeDir(d);
  }
}
import { pgdataPath } from '../base/crypt/paths.js';
import type { DoctorEnv, MountView } from './doctor-env.js';
import { cannotCheck, fixable, manual, ok, type Check } from './findings.js';
import { humanSize } from '../model/units.js';

/** A forced read-only loopback crypt is remounted only when its host has room again. */
export const HOST_ROOM_TO_REMOUNT = 64 * 2 ** 20;

async function hostAvail(image: string): Promise<number | null> {
  const s = await statfs(path.dirname(image)).catch(() => null);
  return s ? Number(s.bavail) * Number(s.bsize) : null;
}

export async function checkWritable(env: DoctorEnv, view: MountView | null): Promise<Check> {
  const id = 'mount.writable';
  const native = env.config?.method === 'native';
  const w = await readWritability(env.runner, env.root, native ? '--target' : '--mountpoint');
  if (w.kind === 'unknown') return cannotCheck(id, `cannot tell whether the crypt is writable: ${w.why}`);
  if (w.kind === 'rw') return ok(id, 'the crypt is writable');
  const what = w.kind === 'forced-ro'
    ? 'Btrfs forced the crypt read-only after a write error (a full host under a loopback image, or a failing disk); PostgreSQL cannot write and has probably stopped'
    : 'the crypt is mounted read-only';
  if (native || !view) return manual(id, what, 'remount the host filesystem read-write (after a forced read-only: unmount and mount it again, or reboot), then start the database');
  if (w.kind === 'forced-ro' && view.image) {
    const avail = await hostAvail(view.image);
    if (avail !== null && avail < HOST_ROOM_TO_REMOUNT) {
      return manual(id, `${what}; the filesystem holding the image ${view.image} still has only ${humanSize(avail)} free`, `free space on ${path.dirname(view.image)} (at least ${humanSize(HOST_ROOM_TO_REMOUNT)}), then run \`lychd-crypt repair\`: it remounts the crypt and starts the database`);
    }
  }
  const pg = env.config?.postgres ?? null;
  return fixable(id, what, `stop the database if it still runs, unmount the crypt and mount it again read-write${pg && pg.service.kind !== 'none' ? ', then start the database if it was running or had crashed' : ''}`, [
    {
      kind: 'remount-crypt',
      spec: view.spec,
      forced: w.kind === 'forced-ro',
      postgres: pg,
      pgdata: pg ? pgdataPath(env.root, pg.dir) : null,
      crypt: env.config ? { user: env.config.crypt.user, logDir: env.paths.pgLog } : null,
    },
  ]);
}

/**
 * What a forced read-only with zero counters means: Btrfs counts a device error only for a bio that failed
 * with an I/O or target error (btrfs_log_dev_io_error); a loop device whose image cannot grow on a full
 * host fails the write with ENOSPC (BLK_STS_NOSPC), which no counter records — only the kernel log does,
 * and the forced read-only (mount.writable) shows its effect. Measured: host full under a loop image, the
 * crypt forced read-only, every counter of `btrfs device stats` and sysfs error_stats still 0.
 */
const UNCOUNTED = 'Btrfs forced the crypt read-only after a write error its device counters do not record (a loop device whose image cannot grow on a full host fails writes with ENOSPC, which Btrfs does not count as a device error); the kernel log names it (`dmesg | grep BTRFS`, as root)';

export async function checkDeviceErrors(env: DoctorEnv): Promise<Check> {
  const id = 'mount.errors';
  // Root asks btrfs; the owner of a rootless crypt reads the same counters from sysfs.
  const errors = process.getuid?.() === 0 ? await readDeviceErrors(env.runner, env.root) : await readDeviceErrorsSysfs(await fsUuidOf(env.root));
  if (!errors.length) {
    const w = await readWritability(env.runner, env.root, env.config?.method === 'native' ? '--target' : '--mountpoint');
    if (w.kind === 'forced-ro') return cannotCheck(id, `${UNCOUNTED}; see mount.writable`);
    return ok(id, 'Btrfs counted no I/O or checksum errors on the crypt\'s device');
  }
  const list = errors.map((e) => `${e.device}: ${Object.entries(e.counters).map(([k, v]) => `${k} ${v}`).join(', ')}`).join('; ');
  return manual(
    id,
    `Btrfs counted errors on the crypt's device (${list})`,
    `check the disk (dmesg, smartctl); run \`btrfs scrub start -B ${env.root}\` to find damaged files and restore them from a snapshot that verifies; then reset the counters with \`btrfs device stats -z ${env.root}\``,
  );
}
