// The owner's Podman, as the tool needs it: what `podman inspect` says about a container (parsed here, pure),
// where its PGDATA is on the host, and the argv of the few podman commands the tool runs — always as the
// containers' owner (root, at init, asks through the owner: setpriv and the owner's own environment).
// Facts and traps of rootless Podman on these hosts: docs/containers.md.
import path from 'node:path';
import { CryptError } from '../errors.js';
import { asUser, type Runner, type RunResult } from '../runner.js';
import { parsePodmanMap, type MapLine } from '../userns/ids.js';

/** The official postgres images' PGDATA up to 17 (LychD mounts its data there; 18 moved it, see pgdataInside). */
export const CLASSIC_PGDATA = '/var/lib/postgresql/data';

export interface ContainerMount {
  type: string;
  source: string;
  destination: string;
  rw: boolean;
}

export interface ContainerFacts {
  name: string;
  id: string;
  /** The image's ID (what a verify clone runs) and the name it was created from. */
  image: string;
  imageName: string;
  running: boolean;
  /** Host pid of the container's first process while it runs. */
  pid: number | null;
  /** Config.User ("999:999", "postgres", "" for the image's default). */
  user: string;
  /** The environment the container's processes get: the image's merged with the container's own. */
  env: Record<string, string>;
  mounts: ContainerMount[];
  /** Container id → owner's rootless-namespace id (HostConfig.IDMappings); empty when not mapped by podman. */
  uidMap: MapLine[];
  gidMap: MapLine[];
  /** Secrets' names (mounted at /run/secrets/<name> unless told otherwise). */
  secrets: string[];
  /** Host address and port published for the container's 5432/tcp, if any. */
  published: { host: string; port: number } | null;
  networkMode: string;
  pod: string;
  /** The systemd unit that runs it (podman records PODMAN_SYSTEMD_UNIT, which Quadlet units set), if any. */
  unit: string | null;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/** One element of `podman inspect`'s array. */
export function parseInspect(j: any): ContainerFacts {
  const env: Record<string, string> = {};
  for (const kv of (j?.Config?.Env ?? []) as string[]) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const binding = (j?.HostConfig?.PortBindings?.['5432/tcp'] ?? [])[0];
  const port = Number(binding?.HostPort);
  const labels = (j?.Config?.Labels ?? {}) as Record<string, string>;
  return {
    name: String(j?.Name ?? ''),
    id: String(j?.Id ?? ''),
    image: String(j?.Image ?? ''),
    imageName: String(j?.ImageName ?? ''),
    running: j?.State?.Running === true,
    pid: j?.State?.Running === true && Number(j?.State?.Pid) > 0 ? Number(j.State.Pid) : null,
    user: String(j?.Config?.User ?? ''),
    env,
    mounts: ((j?.Mounts ?? []) as any[]).map((m) => ({ type: String(m.Type ?? ''), source: String(m.Source ?? ''), destination: String(m.Destination ?? ''), rw: m.RW !== false })),
    uidMap: parsePodmanMap(j?.HostConfig?.IDMappings?.UidMap ?? []),
    gidMap: parsePodmanMap(j?.HostConfig?.IDMappings?.GidMap ?? []),
    secrets: ((j?.Config?.Secrets ?? []) as any[]).map((s) => String(s.Name)).filter(Boolean),
    published: Number.isInteger(port) && port > 0 ? { host: String(binding?.HostIp || '127.0.0.1'), port } : null,
    networkMode: String(j?.HostConfig?.NetworkMode ?? ''),
    pod: String(j?.Pod ?? ''),
    unit: labels.PODMAN_SYSTEMD_UNIT || null,
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * PGDATA inside the container: its environment's PGDATA (the image's default merged with the container's
 * own: the official postgres:18 images say /var/lib/postgresql/18/docker, earlier ones and LychD's mount
 * /var/lib/postgresql/data), else the classic path.
 */
export const pgdataInside = (c: ContainerFacts): string => c.env.PGDATA || CLASSIC_PGDATA;

/**
 * Where the container's PGDATA is on the host: the bind mount whose destination holds it (the longest),
 * plus the rest of the path. null: no bind mount holds it (an anonymous or named volume, or the image's own
 * layer), so the cluster is not in any directory of the host the tool could snapshot.
 */
export function pgdataOnHost(c: ContainerFacts): { path: string; mount: ContainerMount } | null {
  const inside = pgdataInside(c);
  const holds = (d: string) => inside === d || inside.startsWith(d.endsWith('/') ? d : `${d}/`);
  const m = c.mounts.filter((x) => holds(x.destination)).sort((a, b) => b.destination.length - a.destination.length)[0];
  if (!m || m.type !== 'bind') return null;
  return { path: path.join(m.source, path.relative(m.destination, inside)), mount: m };
}

/** The container uid and gid of Config.User when it names them by number ("999:999", "999"), else null. */
export function numericUser(c: Pick<ContainerFacts, 'user'> | null): { uid: number; gid: number | null } | null {
  const m = /^(\d+)(?::(\d+))?$/.exec(c?.user.trim() ?? '');
  return m ? { uid: Number(m[1]), gid: m[2] === undefined ? null : Number(m[2]) } : null;
}

/** Whose podman: the calling user's own (null), or — root at init — the owner's, run as the owner. */
export type PodmanUser = { name: string; uid: number; gid: number; home: string } | null;

/** podman with `args`, as `as` (its HOME and runtime directory: podman keeps its state there). */
export async function runPodman(runner: Runner, args: string[], as: PodmanUser = null): Promise<RunResult> {
  if (!as) return runner.run(['podman', ...args], { allowFailure: true });
  const env = { HOME: as.home, USER: as.name, LOGNAME: as.name, XDG_RUNTIME_DIR: `/run/user/${as.uid}` };
  return runner.run(asUser(as, ['podman', ...args]), { allowFailure: true, env, cwd: '/' });
}

/** `podman inspect` of one container; null when there is no such container (a Quadlet's `--rm` one that is stopped). */
export async function inspectContainer(runner: Runner, name: string, as: PodmanUser = null): Promise<ContainerFacts | null> {
  const r = await runPodman(runner, ['container', 'inspect', '--', name], as);
  if (r.exitCode !== 0) {
    if (/no such container/i.test(r.stderr)) return null;
    throw podmanFailed(`podman container inspect ${name}`, r.stderr || r.notRun || `exit ${r.exitCode}`);
  }
  const arr = JSON.parse(r.stdout) as unknown[];
  return arr.length ? parseInspect(arr[0]) : null;
}

/** Every container of the calling user, running or not. */
export async function listContainers(runner: Runner, as: PodmanUser = null): Promise<ContainerFacts[]> {
  const names = await runPodman(runner, ['ps', '--all', '--format', '{{.Names}}'], as);
  if (names.exitCode !== 0) throw podmanFailed('podman ps', names.stderr || names.notRun || `exit ${names.exitCode}`);
  const list = names.stdout.split('\n').map((n) => n.trim()).filter(Boolean);
  if (!list.length) return [];
  const r = await runPodman(runner, ['container', 'inspect', '--', ...list], as);
  // A container removed between the two calls makes inspect fail for all: the survivors one by one then.
  if (r.exitCode !== 0) return (await Promise.all(list.map((n) => inspectContainer(runner, n, as).catch(() => null)))).filter((c): c is ContainerFacts => c !== null);
  return (JSON.parse(r.stdout) as unknown[]).map(parseInspect);
}

/** What podman itself said, with what to check (no runtime dir, no lingering: every podman call fails then). */
export function podmanFailed(what: string, why: string): CryptError {
  const noRuntimeDir = /XDG_RUNTIME_DIR|\/run\/user\/\d+|runtime dir/i.test(why);
  return new CryptError(`${what} failed: ${why.trim().split('\n').slice(-3).join(' ')}`, {
    hint: noRuntimeDir
      ? "Rootless podman needs the owner's runtime directory /run/user/UID: enable lingering (`loginctl enable-linger USER`, as root) or log in as the owner."
      : 'Check the container with `podman ps -a` and `podman logs NAME` as its owner.',
  });
}

/** Start and stop the way `podman start/stop NAME` does; the stop waits `timeoutS` before SIGKILL. */
export const podmanStartArgv = (name: string): string[] => ['podman', 'start', '--', name];
export const podmanStopArgv = (name: string, timeoutS: number): string[] => ['podman', 'stop', '--time', String(timeoutS), '--', name];
