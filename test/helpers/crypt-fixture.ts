// A ready crypt for runtime tests, built directly (not through init) so the snapshot and rollback
// tests do not depend on the installer: loop image -> btrfs -> active/ + postgres/ (+C) + snapshots/.
import { mkdir, chown, chmod } from 'node:fs/promises';
import path from 'node:path';
import type { Config, ServiceConfig } from '../../src/config/config.js';
import { writeJsonAtomic } from '../../src/core/fs.js';
import { cryptPaths } from '../../src/crypt/paths.js';
import { sh, ids } from './host.js';
import type { Scratch } from './scratch.js';

export interface FixtureOptions {
  sizeMiB?: number;
  /** Port/socket used in the stored postgres.connection. */
  socketDir?: string;
  port?: number;
  pgBin?: string;
  service?: ServiceConfig;
  postgres?: boolean;
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
  const root = scratch.path('crypt');
  const image = opts.image ?? scratch.path('crypt.img');
  sh(['truncate', '-s', `${opts.sizeMiB ?? 1024}M`, image]);
  sh(['mkfs.btrfs', '-q', '-f', '-L', 'lychd', image]);
  await mkdir(root, { recursive: true });
  sh(['mount', '-o', 'loop,noatime,compress=zstd:1', image, root]);
  scratch.defer(() => {
    try {
      sh(['umount', root]);
    } catch {
      /* the sweep retries */
    }
  });
  const paths = cryptPaths(root);
  sh(['btrfs', 'subvolume', 'create', paths.active]);
  const pgdata = path.join(paths.active, 'postgres');
  await mkdir(pgdata);
  sh(['chattr', '+C', pgdata]);
  const pg = ids('postgres');
  await chown(pgdata, pg.uid, pg.gid);
  await chmod(pgdata, 0o700);
  await mkdir(paths.snapshots);
  await mkdir(paths.state, { mode: 0o700 });
  const config: Config = {
    version: 1,
    crypt: { path: root, user: 'root', uid: 0, gid: 0, home: '/root' },
    method: 'loopback',
    loopback: { image, sizeBytes: (opts.sizeMiB ?? 1024) * 2 ** 20 },
    partition: null,
    filesystem: { label: 'lychd', mountOptions: ['noatime', 'compress=zstd:1'] },
    persist: { via: 'none', fstab: scratch.path('etc/fstab'), unitDir: scratch.path('etc/systemd/system') },
    install: { binDir: scratch.path('bin') },
    postgres:
      opts.postgres === false
        ? null
        : {
            dir: 'postgres',
            osUser: 'postgres',
            uid: pg.uid,
            gid: pg.gid,
            connection: { host: opts.socketDir ?? scratch.path('sock'), port: opts.port ?? 5432, user: 'postgres', database: 'postgres' },
            bin: opts.pgBin ?? '/usr/lib/postgresql/15/bin',
            service: opts.service ?? { kind: 'pg_ctl' },
          },
  };
  await writeJsonAtomic(paths.config, config);
  return { root, config, paths, pgdata };
}
