// A crypt whose live WAL is outside it (postgres.walDir, docs/wal.md): the fixture crypt, a root-owned 0755
// WAL root in the scratch directory (the host's own filesystem), active/'s generation made for the postgres
// user, and a cluster made with `initdb --waldir` there; the CLI bound to it.
import { chmod, chown, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { makeCryptFixture, reconfigure } from './crypt-fixture.js';
import { PG_BIN } from './env.js';
import { ids, sh, type TestUser } from './host.js';
import { startTestServer, type PgVersion } from './pg.js';
import { cliChild } from './snap.js';
import type { ScratchSuite } from './suite.js';

export const activeUuid = (active: string): string => /^\s*UUID:\s*(\S+)/m.exec(sh(['btrfs', 'subvolume', 'show', active]))![1]!;

/** `owner`: a rootless crypt of that user (PostgreSQL run by them), its walDir in their home, theirs. */
export async function walCrypt(scratches: ScratchSuite, bundle: string, opts: { version?: PgVersion; segSizeMiB?: number; conf?: string[]; owner?: TestUser } = {}) {
  const version = opts.version ?? 15;
  const scratch = await scratches.scratch();
  const o = opts.owner;
  const fx = await makeCryptFixture(scratch, { pgBin: PG_BIN[version], ...(o ? { owner: o, rootless: true, root: path.join(o.home, '.local/share/lychd'), socketDir: scratch.path('sock-owner') } : {}) });
  const walDir = o ? path.join(o.home, '.local/share/lychd-wal') : scratch.path('wal');
  await mkdir(walDir, { mode: 0o755 });
  await chmod(walDir, 0o755);
  if (o) await chown(walDir, o.uid, o.gid);
  const gen = path.join(walDir, `gen-${activeUuid(fx.paths.active)}`);
  const pgIds = o ?? ids('postgres');
  await mkdir(gen, { mode: 0o700 });
  await chown(gen, pgIds.uid, pgIds.gid);
  await reconfigure(fx, { ...fx.config, postgres: { ...fx.config.postgres!, walDir } });
  const server = await startTestServer(scratch, {
    version,
    pgdata: fx.pgdata,
    socketDir: fx.config.postgres!.connection.host,
    port: fx.config.postgres!.connection.port,
    conf: opts.conf,
    initdbArgs: ['--waldir', gen, ...(opts.segSizeMiB ? [`--wal-segsize=${opts.segSizeMiB}`] : [])],
    ...(o ? { osUser: { uid: o.uid, gid: o.gid } } : {}),
  });
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => cliChild(bundle, fx.root, args, env);
  return { scratch, fx, server, run, walDir, gen };
}
