// A ready crypt for runtime tests, built directly (not through init) so the snapshot and rollback
// tests do not depend on the installer: loop image -> btrfs -> active/ + postgres/ (+C) + snapshots/.
import { mkdir, chown, chmod } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Config, ServiceConfig } from '../../src/model/config.js';
import { cryptPaths, stateDirFor } from '../../src/base/crypt/paths.js';
import { readIdentity } from '../../src/base/registry/identity.js';
import { REGISTRY_ENV, writeEntry, type RegistryEntry } from '../../src/base/registry/store.js';
import { sh, ids, type TestUser } from './host.js';
import type { Scratch } from './scratch.js';

export interface FixtureOptions {
  sizeMiB?: number;
  /** Port/socket used in the stored postgres.connection. */
  socketDir?: string;
  port?: number;
  pgBin?: string;
  service?: ServiceConfig;
  postgres?: boolean;
  /** The crypt's owner (default root); with rootless, the owner also runs PostgreSQL and the runtime. */
  owner?: TestUser;
  rootless?: boolean;
  /** The mount point (default <scratch>/crypt), e.g. inside the owner's home. */
  root?: string;
  /** Where the image file goes (default: the scratch dir), e.g. on a small host filesystem. */
  image?: string;
}

export interface CryptFixture {
  root: string;
  config: Config;
  paths: ReturnType<typeof cryptPaths>;
  pgdata: string;
}

export async function makeCryptFixture(scratch: Scratch, opts: FixtureOptions = {}): Promise<CryptFixture> {
  const root = opts.root ?? scratch.path('crypt');
  const image = opts.image ?? (opts.root ? scratch.path(`crypt-${randomBytes(3).toString('hex')}.img`) : scratch.path('crypt.img'));
  const owner = opts.owner ?? { name: 'root', uid: 0, gid: 0, home: '/root' };
  const profile = opts.rootless ? 'rootless' : 'system';
  sh(['truncate', '-s', `${opts.sizeMiB ?? 1024}M`, image]);
  sh(['mkfs.btrfs', '-q', '-f', '-L', 'lychd', image]);
  await mkdir(root, { recursive: true });
  // Directories made inside the owner's home are the owner's, as they would be on a real host.
  for (let d = path.dirname(root); opts.owner && d.startsWith(`${owner.home}/`); d = path.dirname(d)) await chown(d, owner.uid, owner.gid);
  sh(['mount', '-o', `loop,noatime,compress=zstd:1${opts.rootless ? ',user_subvol_rm_allowed' : ''}`, image, root]);
  scratch.defer(() => {
    try {
      sh(['umount', root]);
    } catch {
      /* the sweep retries */
    }
  });
  const registry = { dir: scratch.path('registry'), state: scratch.path('state') };
  const name = owner.uid === 0 ? 'fx' : owner.name;
  const paths = cryptPaths(root, stateDirFor({ profile, crypt: { name, home: owner.home } as Config['crypt'], registry }));
  sh(['btrfs', 'subvolume', 'create', paths.active]);
  await chown(paths.active, owner.uid, owner.gid);
  const pgdata = path.join(paths.active, 'postgres');
  await mkdir(pgdata);
  sh(['chattr', '+C', pgdata]);
  const pg = opts.rootless ? { uid: owner.uid, gid: owner.gid } : ids('postgres');
  await chown(pgdata, pg.uid, pg.gid);
  await chmod(pgdata, 0o700);
  await mkdir(paths.snapshots);
  await mkdir(paths.state, { mode: opts.rootless ? 0o700 : 0o711, recursive: true });
  if (opts.rootless) {
    for (const d of [root, paths.snapshots]) await chown(d, owner.uid, owner.gid);
    for (let d = paths.state; d.startsWith(`${owner.home}/`); d = path.dirname(d)) await chown(d, owner.uid, owner.gid);
  }
  const config: Config = {
    version: 1,
    crypt: { name, path: root, user: owner.name, uid: owner.uid, gid: owner.gid, home: owner.home },
    profile,
    registry,
    method: 'loopback',
    loopback: { image, sizeBytes: (opts.sizeMiB ?? 1024) * 2 ** 20 },
    partition: null,
    filesystem: { label: 'lychd', mountOptions: ['noatime', 'compress=zstd:1', ...(opts.rootless ? ['user_subvol_rm_allowed'] : [])] },
    persist: { via: 'none', fstab: scratch.path('etc/fstab'), unitDir: scratch.path('etc/systemd/system') },
    install: { binDir: scratch.path('bin') },
    postgres:
      opts.postgres === false
        ? null
        : {
            dir: 'postgres',
            osUser: opts.rootless ? owner.name : 'postgres',
            uid: pg.uid,
            gid: pg.gid,
            connection: { host: opts.socketDir ?? scratch.path('sock'), port: opts.port ?? 5432, user: 'postgres', database: 'postgres' },
            bin: opts.pgBin ?? '/usr/lib/postgresql/15/bin',
            service: opts.service ?? { kind: 'pg_ctl' },
          },
  };
  await registerFixture(config, paths.state);
  return { root, config, paths, pgdata };
}

/**
 * Records a crypt in its (scratch) registry as init would, and points this process (and the CLI children
 * it starts) at that registry.
 */
export async function registerFixture(config: Config, stateDir: string): Promise<RegistryEntry> {
  await mkdir(config.registry.dir, { recursive: true, mode: 0o755 });
  const entry: RegistryEntry = { version: 1, name: config.crypt.name, config, identity: await readIdentity(config.crypt.path), stateDir, registeredAt: new Date().toISOString() };
  await writeEntry(config.registry.dir, entry);
  process.env[REGISTRY_ENV] = config.registry.dir;
  return entry;
}

/** Changes a fixture crypt's registered configuration (what `init` with other answers would record). */
export async function reconfigure(fx: CryptFixture, config: Config): Promise<void> {
  fx.config = config;
  await registerFixture(config, fx.paths.state);
}
