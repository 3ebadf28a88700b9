// PostgreSQL run by systemd units inside a test container (test/helpers/systemd.ts): a system unit
// (User=postgres) or a user unit of the crypt's owner, the way a rootless container (a Podman Quadlet)
// runs it — PGDATA owned by the owner. Debian's postgres is built with systemd support, so Type=notify.
import { chown } from 'node:fs/promises';
import { appendFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../../src/model/config.js';
import { makeCryptFixture, reconfigure, type CryptFixture } from './crypt-fixture.js';
import { PG_BIN } from './env.js';
import { ids, makeUser, type TestUser } from './host.js';
import type { Scratch } from './scratch.js';
import type { Container } from './systemd.js';

export const PG_UNIT = 'lychd-test-pg.service';

export interface UnitCrypt {
  kind: 'system' | 'user';
  fx: CryptFixture;
  /** The OS user running PostgreSQL: postgres (system unit) or the crypt's owner (user unit). */
  runAs: { name: string; uid: number; gid: number };
  owner: TestUser | null;
  socketDir: string;
  port: number;
  /** Where the unit file goes inside the container. */
  unitPath: string;
  /** `systemctl` arguments that reach the unit's manager. */
  scope: string[];
  connect(): Promise<pg.Client>;
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string): Promise<T[]>;
}

/**
 * Before the boot (the container must see the owner in its passwd): a crypt fixture whose PGDATA holds a
 * fresh cluster owned by the service's user, listening only on a socket in the scratch directory.
 */
export async function prepareUnitCrypt(scratch: Scratch, kind: 'system' | 'user'): Promise<UnitCrypt> {
  const owner = kind === 'user' ? makeUser(scratch) : null;
  const runAs = owner ? { name: owner.name, uid: owner.uid, gid: owner.gid } : { name: 'postgres', ...ids('postgres') };
  const socketDir = scratch.path('sock');
  const port = 5432;
  const service = { kind: 'systemd' as const, unit: PG_UNIT, user: owner !== null };
  // A user unit makes the crypt rootless (LychD's own): the owner runs PostgreSQL and the runtime.
  const fx = await makeCryptFixture(scratch, { socketDir, port, service, sizeMiB: 1024, ...(owner ? { owner, rootless: true } : {}) });
  mkdirSync(socketDir, { recursive: true });
  await chown(socketDir, runAs.uid, runAs.gid);
  await chown(fx.pgdata, runAs.uid, runAs.gid);
  if (owner) await chown(fx.paths.active, owner.uid, owner.gid);
  execFileSync('setpriv', [`--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, '--clear-groups', '--', path.join(PG_BIN[15], 'initdb'), '-D', fx.pgdata, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], {
    stdio: 'ignore',
    cwd: '/',
    env: { LC_ALL: 'C', PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  await appendFile(path.join(fx.pgdata, 'postgresql.conf'), `\nlisten_addresses = ''\nunix_socket_directories = '${socketDir}'\nport = ${port}\nshared_buffers = 32MB\nmax_wal_size = 256MB\n`);
  const config: Config = {
    ...fx.config,
    postgres: { ...fx.config.postgres!, osUser: runAs.name, uid: runAs.uid, gid: runAs.gid, bin: PG_BIN[15] },
  };
  await reconfigure(fx, config);
  const connect = async () => {
    const c = new pg.Client({ host: socketDir, port, user: 'postgres', database: 'postgres' });
    await c.connect();
    return c;
  };
  return {
    kind,
    fx: { ...fx, config },
    runAs,
    owner,
    socketDir,
    port,
    unitPath: owner ? path.join(owner.home, '.config/systemd/user', PG_UNIT) : path.join('/etc/systemd/system', PG_UNIT),
    scope: owner ? ['--user', '-M', `${owner.name}@`] : [],
    connect,
    async query(sql) {
      const c = await connect();
      try {
        return (await c.query(sql)).rows;
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * The unit: Restart=always, as a container unit has, so a server killed behind systemd's back would come
 * back at once — on whatever files are there. A stop through systemctl must not trigger it.
 */
export function renderPgUnit(u: UnitCrypt): string {
  return [
    '[Unit]',
    `Description=PostgreSQL on ${u.fx.pgdata} (${u.kind} unit; stands in for a Quadlet)`,
    '',
    '[Service]',
    'Type=notify',
    ...(u.kind === 'system' ? ['User=postgres', 'Group=postgres'] : []),
    `ExecStart=${path.join(PG_BIN[15], 'postgres')} -D ${u.fx.pgdata}`,
    'ExecReload=/bin/kill -HUP $MAINPID',
    // SIGINT is PostgreSQL's fast shutdown; only the postmaster gets it, it stops its children itself.
    'KillMode=mixed',
    'KillSignal=SIGINT',
    'TimeoutSec=120',
    'Restart=always',
    'RestartSec=1',
    '',
    '[Install]',
    `WantedBy=${u.kind === 'system' ? 'multi-user.target' : 'default.target'}`,
    '',
  ].join('\n');
}

/** After the boot: the owner's manager (lingering, user@UID.service), the unit enabled and started. */
export async function startPgUnit(box: Container, u: UnitCrypt): Promise<void> {
  if (u.owner) {
    await box.exec(['loginctl', 'enable-linger', u.owner.name], { check: true });
    await box.exec(['systemctl', 'start', `user@${u.owner.uid}.service`], { check: true });
  }
  await box.writeFile(u.unitPath, renderPgUnit(u));
  if (u.owner) await box.exec(['chown', '-R', `${u.owner.uid}:${u.owner.gid}`, path.join(u.owner.home, '.config')], { check: true });
  await box.exec(['systemctl', ...u.scope, 'daemon-reload'], { check: true });
  await box.exec(['systemctl', ...u.scope, 'enable', '--now', PG_UNIT], { check: true, timeoutMs: 120_000 });
}
