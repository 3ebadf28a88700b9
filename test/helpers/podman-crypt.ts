// A crypt for PostgreSQL in its owner's rootless Podman container, as LychD deploys it (test/helpers/podman.ts
// runs the container): root's `init` with `postgres.container`, then everything else as the owner, without
// root, through the CLI. The crypt lives in the owner's home, so its mounts are swept after the owner's
// containers are gone (a container's mount namespace keeps a bind mount of PGDATA until then).
import { chmod, stat } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { cliAs, type UserRun } from './as-user.js';
import { trustedHomes } from './host.js';
import { buildCli, writeAnswers } from './init.js';
import { freeLoopback, makePodmanOwner, type ImageVersion, type PodmanOwner, type PodmanOwnerOptions } from './podman.js';
import { sweep, type Scratch } from './scratch.js';

export interface PodmanCrypt {
  owner: PodmanOwner;
  bundle: string;
  root: string;
  pgdata: string;
  /** Where the container publishes PostgreSQL (a loopback address of its own: tests run in parallel). */
  address: string;
  port: number;
  /** The Podman secret the container and the crypt read the password from. */
  secret: string;
  version: ImageVersion;
  /** The answers file init ran with. */
  answers: string;
  /** The answers of init, to write variants of. */
  answersOf: Record<string, unknown>;
  /** The CLI as the owner, with the owner's plain login environment. */
  cli(args: string[], env?: Record<string, string>): Promise<UserRun>;
}

export interface PodmanCryptOptions {
  version: ImageVersion;
  name?: string;
  /** postgres.service (default: kind container, podman stop/start). */
  service?: Record<string, unknown>;
  owner?: PodmanOwnerOptions;
  /** More answers under postgres. */
  postgres?: Record<string, unknown>;
  /** Where the owner's home goes (default: a trustedHomes() directory; the systemd harness shares only the scratch dir). */
  homes?: string;
  /** The connection the container will publish (default: a free loopback address, port 5432). */
  listen?: { address: string; port: number };
}

/** The owner (image loaded), the CLI, and a crypt made by root's init; the container is not created yet. */
export async function initPodmanCrypt(scratch: Scratch, opts: PodmanCryptOptions): Promise<PodmanCrypt> {
  const homes = opts.homes ?? trustedHomes(scratch);
  // Registered before the owner: cleanups run last-first, so the owner's containers go before this sweep.
  scratch.defer(() => sweep(homes));
  const owner = await makePodmanOwner(scratch, { home: homes, ...opts.owner });
  await owner.loadImage(opts.version);
  const bundle = buildCli(scratch);
  await chmod(path.dirname(bundle), 0o755);
  const name = opts.name ?? 'lychd-phylactery';
  const { address, port } = opts.listen ?? (await freeLoopback());
  const root = path.join(owner.user.home, '.local/share/lychd');
  const answersOf = {
    crypt: { path: root, user: owner.user.name },
    method: 'loopback',
    loopback: { image: scratch.path('images/crypt.img'), size: '1G' },
    persist: { via: 'none' },
    postgres: {
      container: { engine: 'podman', name },
      // The container is made after init: what it will publish, and the secret it will read, come from the answers.
      connection: { host: address, port, user: 'lich', database: 'lychd', passwordSecret: `${name}-password` },
      ...(opts.service ? { service: opts.service } : {}),
      ...opts.postgres,
    },
  };
  const answers = writeAnswers(scratch, answersOf);
  const init = await cliAs(null, bundle, ['--json', 'init', '--answers', answers, '--yes']);
  expect(init.code, `${init.stdout}\n${init.stderr}`).toBe(0);
  // This host's / is not shared: the owner's podman sees the crypt mounted after its first call once refreshed.
  await owner.refreshMounts();
  return {
    owner,
    bundle,
    root,
    pgdata: path.join(root, 'active/postgres'),
    address,
    port,
    secret: `${name}-password`,
    version: opts.version,
    answers,
    answersOf,
    cli: (args, env = {}) => cliAs(owner.user, bundle, ['--crypt', root, ...args], { XDG_RUNTIME_DIR: owner.runtimeDir, LOGNAME: owner.user.name, ...env }),
  };
}

/** PGDATA and every entry checked belong to the container's postgres as the owner's podman maps it (subuid + 999). */
export async function expectMappedOwner(pc: PodmanCrypt): Promise<void> {
  const uid = pc.owner.hostUid(999);
  const gid = pc.owner.hostGid(999);
  for (const p of [pc.pgdata, path.join(pc.pgdata, 'PG_VERSION'), path.join(pc.pgdata, 'global/pg_control')]) {
    const st = await stat(p);
    expect({ p, uid: st.uid, gid: st.gid }).toEqual({ p, uid, gid });
  }
  expect((await stat(pc.pgdata)).mode & 0o777).toBe(0o700);
}
