// A second "host" for the off-host copy tests (issue 27): its own mount, PID and UTS namespaces with its own
// /etc, /root, /home, /run and Btrfs loop image (the sending side sees none of it, as with a real other
// machine), and its own sshd on a loopback address of its own, with a throw-away host key and a throw-away
// client key per test. Everything lives in the namespace whose PID 1 is that sshd: stopping it (or the test
// process dying) ends the namespace, and with it the processes, mounts, the loop device and the user.
//
// Why a loopback address and not a network namespace with a veth pair: 127.0.0.0/8 is local on every
// Linux host without adding an interface, an address or a route, so nothing is changed in the host's
// network (a private subnet on a veth could collide with the machine's real networks, and a crashed test
// would leave the interface and its route behind); a random 127.x.y.z with its own port keeps concurrent
// tests apart, and sshd listens on that address only. A cut or stalled link is made with `link()`, a relay
// in the test process between the client and sshd.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { randomBytes, randomInt } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sh } from './host.js';
import type { Scratch } from './scratch.js';
import { PATH, childrenOf, exited, nsExec, type ExecOptions, type ExecResult } from './namespaces.js';

const BOOT_SCRIPT = path.join(import.meta.dirname, 'remote-host.sh');

export interface RemoteHostOptions {
  /** `root` (default: receiving needs CAP_SYS_ADMIN) or a throw-away user made on the remote only. */
  login?: 'root' | 'user';
  /** Size of the remote's Btrfs image (MiB). */
  sizeMiB?: number;
  /** Extra sshd_config lines (e.g. `ClientAliveInterval 2`). */
  sshdConfig?: string[];
}

/** A relay between the client and the remote's sshd that the test can cut or stall. */
export interface Link {
  readonly address: string;
  readonly port: number;
  /** ssh://LOGIN@ADDRESS:PORT/PATH through the relay. */
  url(pathOnRemote: string): string;
  /** Resets every connection through the relay (both ends see the link drop). */
  cut(): void;
  /** Stops moving bytes without closing anything (a network that silently drops packets). */
  stall(): void;
  /** Moves bytes again after stall(). */
  resume(): void;
  /** Bytes relayed so far, both directions. */
  readonly bytes: number;
}

export interface RemoteHost {
  /** The remote's name (its hostname inside). */
  readonly name: string;
  /** The user the client logs in as. */
  readonly login: string;
  readonly address: string;
  readonly port: number;
  /** Where the remote's own Btrfs is mounted (only the remote sees it; the path is empty outside). */
  readonly btrfs: string;
  /** The image file of that Btrfs (its loop device is detached when the remote stops). */
  readonly image: string;
  /** The client's private key (0600, root's), generated for this test. */
  readonly clientKey: string;
  /** known_hosts naming the remote's throw-away host key at its address (and at each link's). */
  readonly knownHosts: string;
  /** The remote's host public key line (`ssh-ed25519 AAAA…`). */
  readonly hostKey: string;
  /** The client's public key line. */
  readonly clientPublicKey: string;
  /** ssh://LOGIN@ADDRESS:PORT/PATH. */
  url(pathOnRemote: string): string;
  /**
   * The ssh client options that read nothing of root's ~/.ssh, /etc/ssh/ssh_config or the host's
   * known_hosts: the form lychd-crypt's own ssh argv takes (`-F none` + explicit options).
   */
  sshOptions(): string[];
  /** `ssh [options] -p PORT LOGIN@ADDRESS -- command…` (a remote command for the forced command to judge). */
  sshArgv(command: string[], via?: Link, extraOptions?: string[]): string[];
  /**
   * Installs an authorized_keys line for the login user on the remote:
   * `command="COMMAND",restrict KEY` (the client key unless another public key line is given).
   */
  authorize(command: string, publicKey?: string): Promise<void>;
  /** Runs argv inside the remote's namespaces as root, with a minimal environment. */
  exec(argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Host PIDs of the processes running on the remote (sshd first). */
  processes(): number[];
  /** A relay to the remote's sshd on an address of its own; closed at teardown. */
  link(): Promise<Link>;
  /** sshd's log (stderr, -e). */
  log(): string;
  /** Ends the remote: every process, mount and loop device; idempotent. */
  stop(): Promise<void>;
}

/** A random address in 127.0.0.0/8 (never 127.0.0.1, which real services use) and a port below the ephemeral range. */
function loopbackAddress(): { address: string; port: number } {
  return { address: `127.${randomInt(64, 250)}.${randomInt(1, 255)}.${randomInt(1, 255)}`, port: randomInt(20_000, 32_000) };
}

function keygen(file: string, comment: string): string {
  sh(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  return readFileSync(`${file}.pub`, 'utf8').trim();
}

function pidNamespace(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

function canConnect(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: address, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function sshdConfig(address: string, port: number, hostKeyFile: string, login: string, extra: string[]): string {
  return [
    `ListenAddress ${address}:${port}`,
    `HostKey ${hostKeyFile}`,
    'PidFile none',
    'UsePAM no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    // root logs in only with a key whose authorized_keys line forces a command.
    'PermitRootLogin forced-commands-only',
    `AllowUsers ${login}`,
    'StrictModes yes',
    'AuthorizedKeysFile .ssh/authorized_keys',
    'PrintMotd no',
    'PrintLastLog no',
    'X11Forwarding no',
    'PermitUserEnvironment no',
    'MaxStartups 20:30:60',
    'LogLevel VERBOSE',
    ...extra,
    '',
  ].join('\n');
}

export async function startRemoteHost(scratch: Scratch, opts: RemoteHostOptions = {}): Promise<RemoteHost> {
  const id = randomBytes(3).toString('hex');
  const name = `lychd-remote-${id}`;
  const dir = scratch.path(`remote-${id}`);
  const state = path.join(dir, 'state');
  const btrfs = path.join(dir, 'btrfs');
  mkdirSync(state, { recursive: true });
  mkdirSync(btrfs, { recursive: true });
  const login = opts.login === 'user' ? `lyr${id}` : 'root';

  const image = path.join(dir, 'btrfs.img');
  sh(['truncate', '-s', `${opts.sizeMiB ?? 400}M`, image]);
  sh(['mkfs.btrfs', '-q', '-f', '-L', name, image]);

  const hostKeyFile = path.join(dir, 'host_ed25519');
  const hostKeyLine = keygen(hostKeyFile, name);
  const clientKey = path.join(dir, 'client_ed25519');
  const clientPublicKey = keygen(clientKey, `lychd-test-client-${id}`);
  const knownHosts = path.join(dir, 'known_hosts');
  const hostKey = hostKeyLine.split(/\s+/).slice(0, 2).join(' ');
  const config = path.join(dir, 'sshd_config');
  const logFile = path.join(dir, 'sshd.log');

  let launcher: ChildProcess | undefined;
  let pid = 0;
  let address = '';
  let port = 0;
  const relays: net.Server[] = [];

  async function boot(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      ({ address, port } = loopbackAddress());
      writeFileSync(config, sshdConfig(address, port, hostKeyFile, login, opts.sshdConfig ?? []));
      const log = openSync(logFile, 'w');
      // setpriv --pdeathsig: if the test process dies, unshare dies, and --kill-child takes the namespace's
      // PID 1 (and so everything in it) along: nothing of the remote can outlive its test.
      launcher = spawn(
        'setpriv',
        [
          '--pdeathsig', 'KILL', '--',
          'unshare', '--mount', '--pid', '--fork', '--mount-proc', '--uts', '--propagation', 'private', '--kill-child=SIGKILL',
          'bash', BOOT_SCRIPT, state, image, btrfs, name, login, config,
        ],
        { stdio: ['ignore', log, log], cwd: '/', env: { PATH, LC_ALL: 'C' } },
      );
      closeSync(log);
      const end = Date.now() + 20_000;
      while (Date.now() < end && launcher.exitCode === null) {
        pid ||= childrenOf(launcher.pid!)[0] ?? 0;
        if (pid && (await canConnect(address, port))) return;
        await sleep(25);
      }
      const why = readFileSync(logFile, 'utf8');
      await stop();
      // Someone else holds that address and port: draw again.
      if (attempt < 4 && /Bind to port|Address already in use|Cannot bind any address/.test(why)) continue;
      throw new Error(`the remote host's sshd did not start:\n${why.slice(-3000)}`);
    }
  }

  async function stop(): Promise<void> {
    for (const r of relays.splice(0)) r.close();
    const l = launcher;
    if (!l) return;
    launcher = undefined;
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    } else {
      try {
        l.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await Promise.race([exited(l), sleep(10_000)]);
    pid = 0;
    // The namespace's mounts go with its last process; the image's loop device (autoclear) follows once the
    // kernel has released the filesystem.
    for (let i = 0; i < 100; i++) {
      if (sh(['losetup', '-j', image]).trim() === '') return;
      await sleep(50);
    }
    for (const line of sh(['losetup', '-j', image]).trim().split('\n').filter(Boolean)) sh(['losetup', '-d', line.split(':')[0]!]);
  }
  scratch.defer(stop);

  await boot();
  writeFileSync(knownHosts, `[${address}]:${port} ${hostKey}\n`, { mode: 0o600 });

  async function exec(argv: string[], o: ExecOptions = {}): Promise<ExecResult> {
    if (!pid) throw new Error('the remote host is stopped');
    return nsExec(pid, ['-m', '-u', '-p'], argv, o, 'on the remote host', 120_000);
  }

  const sshOptions = (): string[] => [
    '-F', 'none',
    '-o', `IdentityFile=${clientKey}`,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', `UserKnownHostsFile=${knownHosts}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'UpdateHostKeys=no',
    '-o', 'CheckHostIP=no',
    '-o', 'BatchMode=yes',
    '-o', 'ControlMaster=no',
    '-o', 'ControlPath=none',
    '-o', 'ConnectTimeout=10',
    '-o', 'ServerAliveInterval=2',
    '-o', 'ServerAliveCountMax=3',
  ];

  const remote: RemoteHost = {
    name,
    login,
    get address() {
      return address;
    },
    get port() {
      return port;
    },
    btrfs,
    image,
    clientKey,
    knownHosts,
    hostKey,
    clientPublicKey,
    url: (p) => `ssh://${login}@${address}:${port}${p.startsWith('/') ? p : `/${p}`}`,
    sshOptions,
    // ssh takes the first value given for an option: extra options come first to override sshOptions().
    sshArgv: (command, via, extraOptions = []) => ['ssh', ...extraOptions, ...sshOptions(), '-p', String(via?.port ?? port), `${login}@${via?.address ?? address}`, '--', ...command],
    async authorize(command, publicKey = clientPublicKey) {
      if (/["\n]/.test(command)) throw new Error(`authorize: a forced command may not hold " or a newline: ${command}`);
      const home = (await exec(['getent', 'passwd', login], { check: true })).stdout.split(':')[5]!;
      const line = `command="${command}",restrict ${publicKey}\n`;
      const script = 'set -e; umask 077; mkdir -p "$1/.ssh"; cat >> "$1/.ssh/authorized_keys"; chown -R "$2:" "$1/.ssh"';
      await exec(['sh', '-c', script, 'sh', home, login], { input: line, check: true });
    },
    exec,
    processes() {
      const ns = pid ? pidNamespace(pid) : undefined;
      if (!ns) return [];
      const inside = readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p) && Number(p) !== pid && pidNamespace(Number(p)) === ns)
        .map(Number);
      return [pid, ...inside];
    },
    async link() {
      const at = loopbackAddress().address;
      const pairs = new Set<[net.Socket, net.Socket]>();
      let stalled = false;
      let bytes = 0;
      const server = net.createServer((client) => {
        const upstream = net.connect({ host: address, port });
        const pair: [net.Socket, net.Socket] = [client, upstream];
        pairs.add(pair);
        for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
          from.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (!to.write(chunk)) from.pause();
          });
          to.on('drain', () => {
            if (!stalled) from.resume();
          });
          from.on('end', () => to.end());
          from.on('error', () => to.destroy());
          from.on('close', () => pairs.delete(pair));
        }
        if (stalled) for (const s of pair) s.pause();
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, at, () => resolve());
      });
      relays.push(server);
      const relayPort = (server.address() as net.AddressInfo).port;
      writeFileSync(knownHosts, `[${at}]:${relayPort} ${hostKey}\n`, { flag: 'a' });
      return {
        address: at,
        port: relayPort,
        url: (p) => `ssh://${login}@${at}:${relayPort}${p.startsWith('/') ? p : `/${p}`}`,
        cut() {
          for (const pair of pairs) for (const s of pair) s.resetAndDestroy();
          pairs.clear();
        },
        stall() {
          stalled = true;
          for (const pair of pairs) for (const s of pair) s.pause();
        },
        resume() {
          stalled = false;
          for (const pair of pairs) for (const s of pair) s.resume();
        },
        get bytes() {
          return bytes;
        },
      };
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    stop,
  };
  return remote;
}
