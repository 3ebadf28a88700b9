// A throw-away systemd 252 as PID 1 of fresh namespaces, for tests of real unit behaviour (mount units at
// boot, services stopped and started through systemctl). Its root is an overlay of the host's / under an
// upper layer kept in the test's scratch directory, so a reboot (power off, boot again on the same upper)
// keeps what the first boot wrote to /etc. The scratch directory is shared at the same path.
// Measured facts and traps: /work/shared/notes/systemd-in-a-namespace.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readdirSync, readFileSync, readlinkSync, rmdirSync, writeFileSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sh } from './host.js';
import type { Scratch } from './scratch.js';
import { childrenOf, exited, nsExec, type ExecOptions, type ExecResult } from './namespaces.js';

const BOOT_SCRIPT = path.join(import.meta.dirname, 'systemd-boot.sh');
const CGROUP_PARENT = '/sys/fs/cgroup/unified';
const SYSTEMD = '/lib/systemd/systemd';
/** What systemctl poweroff sends to PID 1: SIGRTMIN+4 (SIGRTMIN is 34 under glibc). */
const SIGRTMIN_4 = 38;

/**
 * Host units that would start work nobody asked for inside (the host's own PostgreSQL cluster, apt timers,
 * a getty without a console, root Podman): masked in the upper layer before the first boot.
 */
const DEFAULT_MASKS = [
  'postgresql.service',
  'postgresql@15-main.service',
  'getty@tty1.service',
  'console-getty.service',
  'e2scrub_reap.service',
  'e2scrub_all.timer',
  'systemd-timesyncd.service',
  'apt-daily.timer',
  'apt-daily-upgrade.timer',
  'dpkg-db-backup.timer',
  'man-db.timer',
  'fstrim.timer',
  // Podman's root services (scripts/setup.sh installs podman for the rootless tests): an API socket and a
  // boot-time `podman start --all` as root that no test wants.
  'podman.service',
  'podman.socket',
  'podman-restart.service',
  'podman-auto-update.timer',
  // A host that has openssh-server enabled would start its sshd in every container (scripts/setup.sh installs
  // the package for test/helpers/remote-host.ts, disabled; a developer's machine may have it on).
  'ssh.service',
  'ssh.socket',
];

export type { ExecOptions, ExecResult } from './namespaces.js';

export interface Container {
  /** Host PID of the container's systemd (PID 1 inside); changes at each boot. */
  readonly pid: number;
  /** The overlay's upper layer on the host (what the container wrote to its root). */
  readonly upper: string;
  /** Runs argv inside every namespace of the container, with a minimal environment (PATH, LC_ALL=C). */
  exec(argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  systemctl(...args: string[]): Promise<ExecResult>;
  /** Writes a file inside the container (e.g. a unit in /etc/systemd/system, which lives in the upper layer). */
  writeFile(file: string, content: string, mode?: number): Promise<void>;
  /** Polls `check` until it holds; throws naming `what` after timeoutMs. */
  waitFor(what: string, check: () => Promise<boolean>, timeoutMs?: number): Promise<void>;
  /** Clean power-off (what `systemctl poweroff` does); idempotent. */
  poweroff(): Promise<void>;
  /** Power off and boot again on the same upper layer. */
  reboot(): Promise<void>;
}

export interface BootOptions {
  scratch: Scratch;
  /** Extra units to mask before the first boot. */
  mask?: string[];
  /** How many /dev/loopN nodes to create (the numbers are the host's). */
  loops?: number;
  bootTimeoutMs?: number;
}

function hostLoopCount(): number {
  const n = readdirSync('/dev')
    .map((e) => /^loop(\d+)$/.exec(e)?.[1])
    .filter((x): x is string => x !== undefined)
    .map(Number);
  // New loop devices get the next numbers: leave room for the ones attached while the container runs.
  return Math.max(64, ...n.map((x) => x + 33));
}

function isSystemd(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/exe`).endsWith('/systemd');
  } catch {
    return false;
  }
}

/** Removes a cgroup and everything systemd left under it, deepest first. */
function removeCgroup(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeCgroup(path.join(dir, e.name));
  rmdirSync(dir);
}

export async function bootSystemd(opts: BootOptions): Promise<Container> {
  const { scratch } = opts;
  const id = randomBytes(3).toString('hex');
  const stateDir = scratch.path(`systemd-${id}`);
  const cgroup = path.join(CGROUP_PARENT, `lychd-sd-${id}`);
  const loops = opts.loops ?? hostLoopCount();
  const bootTimeoutMs = opts.bootTimeoutMs ?? 90_000;

  // The upper layer is a tmpfs mounted on the host: it outlives each boot (a reboot keeps it), and an
  // upper on the host's root filesystem would overlap the lower layer (the kernel refuses that).
  mkdirSync(stateDir, { recursive: true });
  sh(['mount', '-t', 'tmpfs', '-o', 'mode=755,size=1g', `lychd-upper-${id}`, stateDir]);
  scratch.defer(() => {
    try {
      sh(['umount', stateDir]);
    } catch {
      /* the sweep retries */
    }
  });
  const upper = path.join(stateDir, 'upper');
  mkdirSync(path.join(stateDir, 'work'));
  const unitDir = path.join(upper, 'etc/systemd/system');
  mkdirSync(unitDir, { recursive: true });
  for (const unit of [...DEFAULT_MASKS, ...(opts.mask ?? [])]) symlinkSync('/dev/null', path.join(unitDir, unit));

  mkdirSync(cgroup);
  let launcher: ChildProcess | undefined;
  let pid = 0;
  let poweredOff = true;

  async function start(): Promise<void> {
    const log = openSync(path.join(stateDir, 'console.log'), 'a');
    // The launcher moves itself into its own cgroup before unsharing, so the container's cgroup namespace
    // is rooted there and several containers never share one.
    launcher = spawn(
      'sh',
      [
        '-c',
        'echo $$ > "$1/cgroup.procs" && shift && exec unshare --pid --fork --mount --uts --ipc --net --cgroup --propagation private "$@"',
        'sh',
        cgroup,
        BOOT_SCRIPT,
        stateDir,
        scratch.dir,
        String(loops),
      ],
      { stdio: ['ignore', log, log], detached: true, cwd: '/' },
    );
    closeSync(log);
    poweredOff = false;
    const end = Date.now() + bootTimeoutMs;
    // The launcher (unshare) forks the namespace's PID 1, which execs systemd.
    while (Date.now() < end) {
      if (launcher.exitCode !== null) break;
      const child = childrenOf(launcher.pid!)[0];
      if (child && isSystemd(child)) {
        pid = child;
        break;
      }
      await sleep(50);
    }
    if (!pid) throw new Error(`systemd did not start: ${readFileSync(path.join(stateDir, 'console.log'), 'utf8').slice(-2000)}`);
    // Until the manager listens, systemctl cannot connect; `--wait` then waits for the boot to finish.
    let state = '';
    while (Date.now() < end) {
      const r = await exec(['systemctl', 'is-system-running', '--wait'], { timeoutMs: Math.max(1000, end - Date.now()) });
      state = r.stdout.trim();
      if (state === 'running' || state === 'degraded') break;
      await sleep(100);
    }
    if (state !== 'running') {
      const failed = await exec(['systemctl', '--failed', '--no-legend', '--plain']);
      throw new Error(`the container's systemd is ${state || 'unreachable'} after boot; failed units: ${failed.stdout.trim() || '(none)'}`);
    }
  }

  async function exec(argv: string[], o: ExecOptions = {}): Promise<ExecResult> {
    if (poweredOff) throw new Error('the container is powered off');
    return nsExec(pid, ['-a'], argv, o, 'inside the container', 300_000);
  }

  async function poweroff(): Promise<void> {
    if (poweredOff || !launcher) return;
    const l = launcher;
    // pid 0 (systemd never came up) would signal our own process group: kill the cgroup instead.
    if (pid > 0) {
      try {
        process.kill(pid, SIGRTMIN_4);
      } catch {
        /* already gone */
      }
    }
    const done = pid > 0 && (await Promise.race([exited(l).then(() => true), sleep(60_000).then(() => false)]));
    if (!done) {
      // A shutdown that hangs: kill everything in the container's cgroup (the namespace ends with PID 1).
      writeFileSync(path.join(cgroup, 'cgroup.kill'), '1');
      await exited(l);
    }
    poweredOff = true;
    pid = 0;
  }

  scratch.defer(async () => {
    await poweroff();
    removeCgroup(cgroup);
  });

  await start();

  const container: Container = {
    get pid() {
      return pid;
    },
    upper,
    exec,
    systemctl: (...args) => exec(['systemctl', ...args]),
    async writeFile(file, content, mode = 0o644) {
      await exec(['mkdir', '-p', path.dirname(file)], { check: true });
      await exec(['tee', file], { input: content, check: true });
      await exec(['chmod', mode.toString(8), file], { check: true });
    },
    async waitFor(what, check, timeoutMs = 60_000) {
      for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(100)) if (await check()) return;
      if (!(await check())) throw new Error(`timed out waiting for ${what}`);
    },
    poweroff,
    async reboot() {
      await poweroff();
      await start();
    },
  };
  return container;
}
