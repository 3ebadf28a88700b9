// Decides whether real tests can run here: on a laptop they skip with the reason; in CI they fail.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

export type Need = 'root' | 'btrfs' | 'xfs' | 'loop' | 'pg15' | 'pg14' | 'pg18' | 'tmux' | 'pgbench' | 'systemd' | 'podman' | 'sshd';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const PG_BIN: Record<14 | 15 | 18, string> = {
  15: '/usr/lib/postgresql/15/bin',
  14: path.join(REPO, 'node_modules/pg14/native/bin'),
  18: path.join(REPO, 'node_modules/pg18/native/bin'),
};

function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const mode = (p: string): number => {
  try {
    return statSync(p).mode;
  } catch {
    return 0;
  }
};
const setuid = (p: string): boolean => (mode(p) & 0o4000) !== 0;
/** Others may read and write it (a device node every user opens). */
const usable = (p: string): boolean => (mode(p) & 0o006) === 0o006;

function missing(need: Need): string | undefined {
  switch (need) {
    case 'root':
      return process.getuid?.() === 0 ? undefined : 'needs root';
    case 'btrfs':
      return has('mkfs.btrfs') && has('btrfs') ? undefined : 'needs btrfs-progs';
    case 'xfs':
      return has('mkfs.xfs') ? undefined : 'needs xfsprogs';
    case 'loop':
      return existsSync('/dev/loop-control') ? undefined : 'needs loop devices';
    case 'tmux':
      return has('tmux') ? undefined : 'needs tmux';
    case 'systemd':
      // A real systemd as PID 1 of fresh namespaces (test/helpers/systemd.ts): its binary, unshare/nsenter,
      // and a cgroup2 hierarchy to give each container its own cgroup.
      return existsSync('/lib/systemd/systemd') && has('unshare') && has('nsenter') && existsSync('/sys/fs/cgroup/unified/cgroup.procs')
        ? undefined
        : 'needs systemd, unshare, nsenter and cgroup2 at /sys/fs/cgroup/unified';
    case 'podman':
      // Rootless Podman as LychD runs it (test/helpers/podman.ts): podman with runc, the setuid
      // newuidmap/newgidmap, slirp4netns and a /dev/net/tun users may open (published ports), and a static
      // busybox for the tests' image (test/fixtures/pg-image/build.sh).
      return has('podman') && has('runc') && has('slirp4netns') && setuid('/usr/bin/newuidmap') && setuid('/usr/bin/newgidmap') && usable('/dev/net/tun') && existsSync('/bin/busybox')
        ? undefined
        : 'needs rootless podman: podman, runc, uidmap, slirp4netns, busybox-static and a /dev/net/tun users can open';
    case 'sshd':
      // The second "host" of the off-host copy tests (test/helpers/remote-host.ts): its own sshd in fresh
      // namespaces, the OpenSSH client, and strace to watch what the client reads.
      return existsSync('/usr/sbin/sshd') && has('ssh') && has('ssh-keygen') && has('unshare') && has('nsenter') && has('setpriv') && has('strace')
        ? undefined
        : 'needs openssh-server, openssh-client, util-linux (unshare, nsenter, setpriv) and strace';
    case 'pgbench':
      return existsSync(path.join(PG_BIN[15], 'pgbench')) ? undefined : 'needs pgbench (postgresql-contrib 15)';
    case 'pg15':
    case 'pg14':
    case 'pg18': {
      const v = Number(need.slice(2)) as 14 | 15 | 18;
      return existsSync(path.join(PG_BIN[v], 'postgres')) ? undefined : `needs PostgreSQL ${v} at ${PG_BIN[v]}`;
    }
  }
}

/**
 * Returns a reason to skip, or undefined when everything is there. With CI=true a missing
 * prerequisite throws instead: in CI nothing is skipped.
 */
export function skipReason(...needs: Need[]): string | undefined {
  const reasons = needs.map(missing).filter((r): r is string => r !== undefined);
  if (reasons.length === 0) return undefined;
  const reason = reasons.join(', ');
  if (process.env.CI === 'true') throw new Error(`CI: prerequisite missing: ${reason} (scripts/setup.sh installs it)`);
  return reason;
}

/**
 * Like skipReason, for a single command on PATH (e.g. zsh, man, systemd-analyze): undefined when it is
 * there; a reason on a laptop; in CI a missing tool fails the run instead of skipping.
 */
export function toolSkipReason(cmd: string): string | undefined {
  if (has(cmd)) return undefined;
  const reason = `needs ${cmd}`;
  if (process.env.CI === 'true') throw new Error(`CI: prerequisite missing: ${reason} (scripts/setup.sh installs it)`);
  return reason;
}
