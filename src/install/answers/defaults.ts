// Every default of the answers, beside its key (as btrbk keeps its defaults: one table): what a key is when
// the answers leave it out. Where a default depends on the host or on another key it is a pure function of
// those. The schema's .default()s, detection, resolve and the wizard's proposals all read them here, so a
// default is changed in one place. (crypt.path: base/crypt/locate.ts defaultCryptPath, shared with the
// runtime commands, which find a user's crypt there; registry.state: base/registry/store.ts.)
import path from 'node:path';
import type { Config } from '../../model/config.js';
import type { MountRecord } from '../render/mount-record.js';

export const DEFAULTS = {
  method: 'auto',
  'partition.wipe': false,
  /** Without a size in the answers, the stored one or an existing image's wins; then what fits (image-size.ts), at most this. */
  'loopback.size': 20 * 2 ** 30,
  'filesystem.label': 'lychd',
  'filesystem.mountOptions': ['noatime', 'compress=zstd:1'],
  'persist.fstab': '/etc/fstab',
  'persist.unitDir': '/etc/systemd/system',
  'install.binDir': '/usr/local/bin',
  'postgres.enabled': true,
  'postgres.dir': 'postgres',
  'postgres.osUser': 'postgres',
  'postgres.connection': { host: '/var/run/postgresql', port: 5432, user: 'postgres', database: 'postgres' },
  'postgres.service': { kind: 'pg_ctl' },
  /** The unit the wizard proposes when the service is a systemd unit. */
  'postgres.service.unit': 'postgresql.service',
  'postgres.service.user': false,
  /** PostgreSQL in the crypt user's container: the official images' postgres uid, and where LychD publishes it. */
  'postgres.container.osUser': 999,
  'postgres.container.connection': { host: '127.0.0.1', port: 5432 },
  'schedule.calendar': 'hourly',
  'schedule.verify': false,
  'hooks.timeout': 60,
} as const;

/** loopback.image: where images go, each crypt its own (<dir>/<name>.img): a shared default would let one init take over another's. */
export const IMAGE_DIR = '/var/lib/lychd';
export const defaultImage = (name: string): string => path.join(IMAGE_DIR, `${name}.img`);

/** crypt.name: the registry name of a user's crypt, the user name made plain. */
export function defaultCryptName(user: string): string {
  return user.toLowerCase().replace(/[^a-z0-9_-]/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 64) || 'crypt';
}

/** persist.via: a systemd unit where systemd runs, else a line in fstab (native: none, it mounts nothing). */
export const defaultPersistVia = (systemdRunning: boolean): 'systemd' | 'fstab' => (systemdRunning ? 'systemd' : 'fstab');

/** persist.fstab and persist.unitDir: the answers, else the stored config, else the mount record, else the system's. */
export function persistPaths(answers: { persist?: { fstab?: string; unitDir?: string } }, prev: Config | null, rec: MountRecord | null): { fstab: string; unitDir: string } {
  const file = rec?.persist.file ?? undefined;
  return {
    fstab: answers.persist?.fstab ?? prev?.persist.fstab ?? (rec?.persist.via === 'fstab' ? file : undefined) ?? DEFAULTS['persist.fstab'],
    unitDir: answers.persist?.unitDir ?? prev?.persist.unitDir ?? (rec?.persist.via === 'systemd' && file ? path.dirname(file) : undefined) ?? DEFAULTS['persist.unitDir'],
  };
}
