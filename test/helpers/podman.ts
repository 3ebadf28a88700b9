// Real rootless Podman for tests, the way LychD deploys PostgreSQL: a fresh owner with subordinate ids, its
// containers.conf/storage.conf as this host needs, the tests' PostgreSQL image (test/fixtures/pg-image)
// loaded into its storage, and containers run with keep-id, `--user 999:999`, the data bind-mounted `:U`,
// a published loopback port and a scram password from a Podman secret. The teardown leaves no container,
// process, storage, subuid line or user, also when the test failed.
// Facts and traps (runc, cgroupfs, the pause process, a non-shared /): shared/notes/rootless-podman.md.
import { existsSync, readdirSync, readFileSync, rmSync, mkdirSync, chownSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import pg from 'pg';
import { REPO } from './env.js';
import { makeUser, sh, trustedHomes, type TestUser } from './host.js';
import type { Scratch } from './scratch.js';

export type ImageVersion = 15 | 18;
const BUILDER = path.join(REPO, 'test/fixtures/pg-image/build.sh');
/** Inside the image (entrypoint.sh, build.sh): postgres is uid/gid 999, PGDATA the official image's path. */
export const CONTAINER_PG_UID = 999;
export const CONTAINER_PGDATA = '/var/lib/postgresql/data';
export const imageName = (v: ImageVersion): string => `localhost/lychd-test-postgres:${v}`;

/** Where tests mount things (scratch directories, the homes of test users): other tests' mounts live below. */
const TEST_MOUNT_PLACES = [path.join(os.tmpdir(), 'lychd-t-'), `${path.join(REPO, '.scratch')}/`, '/run/lychd-crypt-test-homes-', '/var/lib/lychd-crypt-test-homes-', '/home/lychd-crypt-test-homes-'];

/** The docker-archive of the tests' PostgreSQL image, built once and cached outside the checkout. */
export async function pgImageArchive(version: ImageVersion): Promise<string> {
  const r = await execa('bash', [BUILDER, String(version)], { reject: false, timeout: 300_000, cwd: '/' });
  if (r.exitCode !== 0) throw new Error(`building the PostgreSQL ${version} image failed (exit ${r.exitCode}): ${r.stderr}`);
  return r.stdout.trim();
}

export interface SubIds {
  start: number;
  count: number;
}

/** The ranges /etc/subuid or /etc/subgid gives `name`, in file order (the order newuidmap maps them). */
export function subIdsOf(name: string, file: '/etc/subuid' | '/etc/subgid'): SubIds[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length === 3 && f[0] === name)
    .map((f) => ({ start: Number(f[1]), count: Number(f[2]) }));
}

/**
 * The host id that container id `id` has under `--userns=keep-id` (pure): the owner's own id maps to itself;
 * the others fill the rootless namespace's ids 1… (container ids below the owner's shifted up by one), which
 * newuidmap maps onto the subordinate ranges in order.
 */
export function keepIdHostId(id: number, ownerId: number, ranges: SubIds[]): number {
  if (id === ownerId) return ownerId;
  let index = id < ownerId ? id : id - 1; // 0-based position among the subordinate ids
  for (const r of ranges) {
    if (index < r.count) return r.start + index;
    index -= r.count;
  }
  throw new Error(`container id ${id} is beyond the owner's ${ranges.reduce((n, r) => n + r.count, 0)} subordinate ids`);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  /** Throw when the command fails (default true). */
  check?: boolean;
  timeoutMs?: number;
  env?: Record<string, string>;
}

export interface PgContainerOptions {
  version?: ImageVersion;
  /** The container's name (default lychd-phylactery, LychD's). */
  name?: string;
  /** The host directory bind-mounted `:U,Z` at the image's PGDATA (empty for a first start). */
  dataDir: string;
  /**
   * publish (default, LychD's): slirp4netns and `-p ADDRESS:PORT:5432`; host: the host's network, the server
   * listening on ADDRESS:PORT itself.
   */
  network?: 'publish' | 'host';
  /** Default: a free loopback address of 127.0.0.0/8 with port 5432, so parallel tests never collide. */
  address?: string;
  port?: number;
  /** More server settings, as `-c name=value` after the defaults (small memory, fsync on). */
  conf?: string[];
  password?: string;
  /** Default true: wait until the server answers over TCP with the password. */
  wait?: boolean;
}

export interface PgContainer {
  name: string;
  image: string;
  version: ImageVersion;
  dataDir: string;
  address: string;
  port: number;
  user: 'lich';
  database: 'lychd';
  /** The Podman secret holding the password (the container reads POSTGRES_PASSWORD_FILE). */
  secret: string;
  password: string;
  connect(database?: string): Promise<pg.Client>;
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]>;
  /** `podman start` and wait until the server answers. */
  start(): Promise<void>;
  /** `podman stop` (the image's SIGINT: a fast shutdown), waiting up to timeoutS before SIGKILL. */
  stop(timeoutS?: number): Promise<void>;
  waitReady(timeoutMs?: number): Promise<void>;
  isRunning(): Promise<boolean>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  inspect(): Promise<any>;
  logs(): Promise<string>;
}

export interface PodmanOwner {
  user: TestUser;
  subuids: SubIds[];
  subgids: SubIds[];
  /** XDG_RUNTIME_DIR (/run/user/UID, made as pam_systemd would; podman's runroot lives there). */
  runtimeDir: string;
  /** The owner's plain environment (what a login would give): PATH, HOME, USER, LOGNAME, XDG_RUNTIME_DIR. */
  env: Record<string, string>;
  /** argv as the owner (setpriv, no capabilities, the owner's groups), with `env` only. */
  run(argv: string[], opts?: RunOptions): Promise<RunResult>;
  podman(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** The host uid/gid of a container uid/gid under keep-id (e.g. 999 → subuid start + 999). */
  hostUid(containerUid: number): number;
  hostGid(containerGid: number): number;
  /** Loads the tests' image of that version (built and cached on first use); returns its name. */
  loadImage(version: ImageVersion): Promise<string>;
  /**
   * Lets podman see mounts made since its first call: this host's / is not shared, so the pause process
   * keeps the mount table of its birth. Ends it (`podman system migrate`); refuses while a container runs,
   * which migrate would stop.
   */
  refreshMounts(): Promise<void>;
  /** A PostgreSQL container run as LychD runs its own; removed at teardown. */
  startPostgres(opts: PgContainerOptions): Promise<PgContainer>;
  /** Host pids of every process of the owner or of its subordinate uids (conmon, catatonit, postgres…). */
  processes(): number[];
  /** Removes everything (idempotent; also runs at the scratch's cleanup). */
  teardown(): Promise<void>;
}

/** Processes whose real, effective, saved or filesystem uid `matches` (zombies included). */
function pidsOf(matches: (uid: number) => boolean): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    let status: string;
    try {
      status = readFileSync(`/proc/${p}/status`, 'utf8');
    } catch {
      continue;
    }
    const uids = /^Uid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/).map(Number) ?? [];
    if (uids.some(matches)) pids.push(Number(p));
  }
  return pids;
}

/** A loopback address (and port) nothing listens on yet: tests run in parallel, so each takes its own. */
export async function freeLoopback(): Promise<{ address: string; port: number }> {
  const canBind = (address: string, port: number) =>
    new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen({ host: address, port, exclusive: true }, () => s.close(() => resolve(true)));
    });
  for (let i = 0; i < 40; i++) {
    const b = randomBytes(3);
    const address = `127.${64 + (b[0]! % 128)}.${b[1]}.${1 + (b[2]! % 254)}`;
    // LychD's port first; another one only if something listens on 5432 for every address.
    const port = i < 20 ? 5432 : 20_000 + (b.readUInt16BE(1) % 40_000);
    if (await canBind(address, port)) return { address, port };
  }
  throw new Error('no free loopback address and port for a PostgreSQL container');
}

export interface PodmanOwnerOptions {
  /** Where the owner's home goes (default: a trustedHomes() directory). */
  home?: string;
  /**
   * cgroupfs (default): this host, where no systemd runs. systemd: for containers run by a user unit under the
   * namespace systemd (test/helpers/systemd.ts), where a Quadlet's `--cgroups=split --sdnotify=conmon` needs
   * conmon in the unit's cgroup. Podman on the host falls back to cgroupfs then, with a warning. Podman 4.3
   * also moves itself into a scope of its own when it does not own its cgroup, and on this hybrid host that
   * check stats /proc/self/cgroup's v1 lines too (the namespace's root cgroup, root's): chown the namespace's
   * /sys/fs/cgroup to the owner before starting such a unit, or systemd fails it with result 'protocol'.
   */
  cgroupManager?: 'cgroupfs' | 'systemd';
}

export async function makePodmanOwner(scratch: Scratch, opts: PodmanOwnerOptions = {}): Promise<PodmanOwner> {
  const user = makeUser(scratch, opts.home ?? trustedHomes(scratch));
  // Debian's useradd gives each new user 65536 subordinate ids from ranges no other user has, under its lock
  // (and userdel takes them back): parallel tests never share one.
  const subuids = subIdsOf(user.name, '/etc/subuid');
  const subgids = subIdsOf(user.name, '/etc/subgid');
  if (subuids.length === 0 || subgids.length === 0) {
    throw new Error(`useradd gave ${user.name} no subordinate ids (SUB_UID_COUNT/SUB_GID_COUNT in /etc/login.defs): rootless Podman needs them`);
  }

  const runtimeDir = `/run/user/${user.uid}`;
  // The uid is fresh from useradd: whatever is there was left by a deleted user of the same uid.
  rmSync(runtimeDir, { recursive: true, force: true });
  mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
  chownSync(runtimeDir, user.uid, user.gid);

  // The owner's configuration, as on a host like this one (the note says why each line).
  const conf = path.join(user.home, '.config/containers');
  mkdirSync(conf, { recursive: true });
  writeFileSync(
    path.join(conf, 'containers.conf'),
    [
      '# Hybrid cgroups here: crun refuses them, runc runs; no systemd user manager on the host, so cgroupfs',
      '# there; no journald, so events go to a file.',
      '[engine]',
      'runtime = "runc"',
      `cgroup_manager = "${opts.cgroupManager ?? 'cgroupfs'}"`,
      'events_logger = "file"',
      // Under the namespace systemd no cgroup controller is delegated: runc fails on podman's default pids.max.
      ...(opts.cgroupManager === 'systemd' ? ['[containers]', 'pids_limit = 0'] : []),
      '',
    ].join('\n'),
  );
  // Without this file podman 4.3 picks vfs (a full copy of the image per container); the kernel's own
  // overlay works for rootless users here.
  writeFileSync(path.join(conf, 'storage.conf'), '[storage]\ndriver = "overlay"\n');
  for (let d = conf; d !== user.home; d = path.dirname(d)) chownSync(d, user.uid, user.gid);
  for (const f of ['containers.conf', 'storage.conf']) chownSync(path.join(conf, f), user.uid, user.gid);

  const env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: user.home, USER: user.name, LOGNAME: user.name, XDG_RUNTIME_DIR: runtimeDir };
  const ownsUid = (uid: number) => uid === user.uid || subuids.some((r) => uid >= r.start && uid < r.start + r.count);
  const containers: string[] = [];
  let tornDown = false;

  async function run(argv: string[], o: RunOptions = {}): Promise<RunResult> {
    const r = await execa('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', ...argv], {
      env: { ...env, ...o.env },
      extendEnv: false,
      input: o.input,
      stdin: o.input === undefined ? 'ignore' : undefined,
      reject: false,
      timeout: o.timeoutMs ?? 180_000,
      cwd: '/',
    });
    const res = { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
    if (o.check !== false && res.code !== 0) {
      throw new Error(`${argv.join(' ')} as ${user.name} failed (exit ${res.code}${r.signal ? `, ${r.signal}` : ''}${r.timedOut ? ', timed out' : ''}): ${res.stderr}${res.stdout}`);
    }
    return res;
  }
  const podman = (args: string[], o: RunOptions = {}) => run(['podman', ...args], o);

  async function startPostgres(o: PgContainerOptions): Promise<PgContainer> {
    const version = o.version ?? 15;
    const name = o.name ?? 'lychd-phylactery';
    const image = imageName(version);
    const network = o.network ?? 'publish';
    const { address, port } = o.address && o.port ? { address: o.address, port: o.port } : await freeLoopback();
    const password = o.password ?? randomBytes(12).toString('hex');
    const secret = `${name}-password`;
    // The secret comes through stdin: never in argv, never in the container's environment. podman wants a
    // pipe there, and Node gives children a socket: cat turns one into the other.
    await podman(['secret', 'rm', secret], { check: false });
    await run(['sh', '-c', 'cat | podman secret create "$1" -', 'sh', secret], { input: password });
    const net_ =
      network === 'publish'
        ? { podman: ['--network', 'slirp4netns', '--publish', `${address}:${port}:5432`], server: [] }
        : { podman: ['--network', 'host'], server: ['-p', String(port), '-c', `listen_addresses=${address}`] };
    // Small memory, fsync on; the socket where the official image has it (the 18 build's default is /tmp).
    const settings = ['shared_buffers=32MB', 'max_wal_size=256MB', 'fsync=on', 'unix_socket_directories=/var/run/postgresql', ...(o.conf ?? [])].flatMap((c) => ['-c', c]);
    containers.push(name);
    await podman([
      'run',
      '--detach',
      '--name',
      name,
      '--userns=keep-id',
      '--user',
      `${CONTAINER_PG_UID}:${CONTAINER_PG_UID}`,
      '--volume',
      `${o.dataDir}:${CONTAINER_PGDATA}:U,Z`,
      '--secret',
      secret,
      '--env',
      `POSTGRES_PASSWORD_FILE=/run/secrets/${secret}`,
      '--env',
      'POSTGRES_USER=lich',
      '--env',
      'POSTGRES_DB=lychd',
      // The tests never cut the power during initdb; its fsync of every new file costs seconds.
      '--env',
      'POSTGRES_INITDB_ARGS=--no-sync',
      ...net_.podman,
      image,
      'postgres',
      ...net_.server,
      ...settings,
    ]);
    writePgpass(address, port, password);

    const c: PgContainer = {
      name,
      image,
      version,
      dataDir: o.dataDir,
      address,
      port,
      user: 'lich',
      database: 'lychd',
      secret,
      password,
      async connect(database = 'lychd') {
        const client = new pg.Client({ host: address, port, user: 'lich', password, database, connectionTimeoutMillis: 5000 });
        await client.connect();
        return client;
      },
      async query(sql, params) {
        const client = await c.connect();
        try {
          return (await client.query(sql, params)).rows;
        } finally {
          await client.end();
        }
      },
      async start() {
        await podman(['start', name]);
        await c.waitReady();
      },
      async stop(timeoutS = 60) {
        await podman(['stop', '--time', String(timeoutS), name], { timeoutMs: (timeoutS + 60) * 1000 });
      },
      async waitReady(timeoutMs = 90_000) {
        let last: unknown;
        for (let i = 0, end = Date.now() + timeoutMs; Date.now() < end; i++) {
          try {
            await (await c.connect()).end();
            return;
          } catch (e) {
            last = e;
          }
          // A container that exited will never answer: say why at once.
          if (i % 10 === 9 && !(await c.isRunning())) throw new Error(`container ${name} exited before it answered: ${await c.logs()}`);
          await sleep(200);
        }
        throw new Error(`container ${name} did not answer on ${address}:${port} within ${timeoutMs} ms (${String(last)}): ${await c.logs()}`);
      },
      async isRunning() {
        const r = await podman(['inspect', '--format', '{{.State.Running}}', name], { check: false });
        return r.stdout.trim() === 'true';
      },
      async inspect() {
        return (JSON.parse((await podman(['inspect', name])).stdout) as unknown[])[0];
      },
      async logs() {
        const r = await podman(['logs', '--tail', '40', name], { check: false });
        return `${r.stdout}${r.stderr}`.trim();
      },
    };
    if (o.wait !== false) await c.waitReady();
    return c;
  }

  /** The owner's ~/.pgpass gets a line for the server (0600, the owner's: libpq ignores it otherwise). */
  function writePgpass(address: string, port: number, password: string): void {
    const file = path.join(user.home, '.pgpass');
    const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
    writeFileSync(file, `${old}${address}:${port}:*:lich:${password}\n`, { mode: 0o600 });
    chownSync(file, user.uid, user.gid);
  }

  async function teardown(): Promise<void> {
    if (tornDown) return;
    tornDown = true;
    const errors: string[] = [];
    // podman's own way first: containers (conmon, slirp4netns, rootlessport go with them), then the storage
    // and the pause process. The storage holds files of subordinate uids: only the owner's namespace (or
    // root) can remove them.
    if (containers.length) await podman(['rm', '--all', '--force', '--time', '0'], { check: false, timeoutMs: 60_000 }).catch(() => undefined);
    await podman(['system', 'reset', '--force'], { check: false, timeoutMs: 60_000 }).catch(() => undefined);
    // Whatever is left (a podman that hung, a crashed test): kill every process of the owner's ids, then wait
    // until init has reaped them (userdel refuses a user with processes, zombies included).
    for (let end = Date.now() + 30_000; ; ) {
      const left = pidsOf(ownsUid);
      if (left.length === 0) break;
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      if (Date.now() > end) {
        errors.push(`processes of ${user.name} left: ${left.join(' ')}`);
        break;
      }
      await sleep(100);
    }
    rmSync(path.join(user.home, '.local/share/containers'), { recursive: true, force: true });
    rmSync(runtimeDir, { recursive: true, force: true });
    // userdel takes the subordinate ids back too (makeUser's own userdel then finds the user gone).
    try {
      sh(['userdel', user.name]);
    } catch (e) {
      errors.push(String(e));
    }
    if (errors.length) throw new Error(`podman owner teardown: ${errors.join('; ')}`);
  }
  scratch.defer(teardown);

  /**
   * Starts the owner's pause process (`podman info`, the first call) from a mount namespace without the
   * other tests' mounts. The pause process keeps a copy of the mount table of its birth for as long as it
   * lives: a copy of another test's crypt there would hold that crypt's loop device — and the file system
   * its image lives on — busy after that test unmounts it.
   */
  async function startPauseClean(): Promise<void> {
    const script = [
      'keep1=$1 keep2=$2; shift 2',
      'places=',
      `while [ "$1" != -- ]; do places=$(printf '%s\\n%s' "$places" "$1"); shift; done; shift`,
      `findmnt -rn -o TARGET | sed 's/\\\\x20/ /g' | sort -r | while IFS= read -r t; do`,
      '  case $t in "$keep1" | "$keep1"/* | "$keep2" | "$keep2"/*) continue ;; esac',
      `  printf '%s\\n' "$places" | while IFS= read -r p; do`,
      '    [ -n "$p" ] && case $t in "$p"*) umount -l "$t" 2>/dev/null || true ;; esac',
      '  done',
      'done',
      'exec "$@"',
    ].join('\n');
    const r = await execa(
      'unshare',
      ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', scratch.dir, user.home, ...TEST_MOUNT_PLACES, '--',
        'setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', 'podman', 'info', '--format', '{{.Host.OCIRuntime.Name}}'],
      { env, extendEnv: false, stdin: 'ignore', reject: false, timeout: 120_000, cwd: '/' },
    );
    if (r.exitCode !== 0) throw new Error(`podman info as ${user.name} failed (exit ${r.exitCode}): ${r.stderr}${r.stdout}`);
  }
  await startPauseClean();

  const owner: PodmanOwner = {
    user,
    subuids,
    subgids,
    runtimeDir,
    env,
    run,
    podman,
    hostUid: (id) => keepIdHostId(id, user.uid, subuids),
    hostGid: (id) => keepIdHostId(id, user.gid, subgids),
    async loadImage(version) {
      const archive = await pgImageArchive(version);
      await podman(['load', '--quiet', '--input', archive]);
      return imageName(version);
    },
    async refreshMounts() {
      const running = (await podman(['ps', '--quiet'])).stdout.trim();
      if (running) throw new Error(`refreshMounts: containers are running (${running.split('\n').join(' ')}); stop them first`);
      await podman(['system', 'migrate']);
      await startPauseClean();
    },
    startPostgres,
    processes: () => pidsOf(ownsUid),
    teardown,
  };
  return owner;
}
