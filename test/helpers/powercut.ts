// The power-cut harness. This kernel has no device-mapper (no dm-log-writes), so the crypt's image is
// served by logfs (test/powercut/logfs.c), a FUSE filesystem that logs every write and flush reaching
// it, under the loop device the crypt is mounted from. After the operation, `replayStates` rebuilds the
// image at each flush that followed a Btrfs superblock write (each distinct durable state a power cut
// could leave) and hands it, mounted where the crypt lives, to the test's checks.
//
// `npm test` replays a few evenly spread states; `npm run test:powercut` (LYCHD_POWERCUT=all) every one.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync } from 'node:fs';
import { appendFile, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { REPO, skipReason, type Need } from './env.js';
import { sh } from './host.js';
import { applyRecords, readLog, statesBetween, type FlushPoint, type LogRecord } from './powercut-log.js';
import type { Scratch } from './scratch.js';

const LOGFS_SRC = path.join(REPO, 'test/powercut/logfs.c');

function fuseMissing(): string | undefined {
  if (!existsSync('/dev/fuse')) return 'needs /dev/fuse';
  if (spawnSync('pkg-config', ['--exists', 'fuse3']).status !== 0) return 'needs libfuse3-dev and pkg-config';
  if (spawnSync('sh', ['-c', 'command -v gcc && command -v fusermount3'], { stdio: 'ignore' }).status !== 0) return 'needs gcc and fuse3';
  return undefined;
}

/** Like skipReason, plus what logfs needs (FUSE, libfuse3, a C compiler); in CI a missing piece fails. */
export function powercutSkipReason(...needs: Need[]): string | undefined {
  const base = skipReason(...needs);
  const fuse = fuseMissing();
  if (fuse && process.env.CI === 'true') throw new Error(`CI: prerequisite missing: ${fuse} (scripts/setup.sh installs it)`);
  return [base, fuse].filter(Boolean).join(', ') || undefined;
}

/** Compiles logfs once per source version into node_modules/.cache (never committed). */
export function logfsBinary(): string {
  const src = readFileSync(LOGFS_SRC);
  const dir = path.join(REPO, 'node_modules/.cache/lychd-powercut');
  const bin = path.join(dir, `logfs-${createHash('sha256').update(src).digest('hex').slice(0, 12)}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const flags = sh(['pkg-config', '--cflags', '--libs', 'fuse3']).trim().split(/\s+/);
  const tmp = `${bin}.${process.pid}.tmp`;
  sh(['gcc', '-O2', '-Wall', '-o', tmp, LOGFS_SRC, ...flags]);
  renameSync(tmp, bin); // parallel test files may compile at once: the rename makes it appear whole
  return bin;
}

/** Which states to replay: all with LYCHD_POWERCUT=all, else `sample` spread evenly (first and last included). */
export function pickStates(states: FlushPoint[], sample = Number(process.env.LYCHD_POWERCUT_SAMPLE ?? 4)): FlushPoint[] {
  if (process.env.LYCHD_POWERCUT === 'all' || states.length <= sample) return states;
  if (sample <= 1) return states.slice(-1);
  const picked = new Set<number>();
  for (let i = 0; i < sample; i++) picked.add(Math.round((i * (states.length - 1)) / (sample - 1)));
  return [...picked].sort((a, b) => a - b).map((i) => states[i]!);
}

export interface MountSpecLine {
  what: string;
  where: string;
  type: string;
  options: string;
}

/** The crypt's line in the (scratch) fstab that init wrote: how boot would mount it. */
export async function fstabLine(fstab: string, where: string): Promise<MountSpecLine> {
  for (const line of (await readFile(fstab, 'utf8')).split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 4 && !f[0]!.startsWith('#') && f[1] === where) return { what: f[0]!, where, type: f[2]!, options: f[3]! };
  }
  throw new Error(`no line for ${where} in ${fstab}`);
}

export interface Recording {
  log: string;
  /** The image as it was when logging began. */
  base: string;
  records: LogRecord[];
}

/**
 * Serves `image` (a crypt image, not mounted) through logfs and mounts the crypt from it as `spec`
 * says, the loop device set up by hand so that direct I/O can be chosen. The image's directory is
 * covered by the FUSE mount while recording; `stop` uncovers it.
 */
export class Recorder {
  private child: ChildProcess | undefined;
  private loop: string | undefined;
  private exited: Promise<void> | undefined;
  private died: string | undefined;
  readonly log: string;
  readonly base: string;
  private readonly backing: string;
  private readonly fuseDir: string;

  constructor(
    private readonly scratch: Scratch,
    private readonly image: string,
    private readonly spec: MountSpecLine,
    private readonly opts: { directIo?: boolean } = {},
  ) {
    this.log = scratch.path('powercut.log');
    this.base = scratch.path('powercut-base.img');
    this.backing = scratch.path('powercut-backing.img');
    this.fuseDir = path.dirname(image);
  }

  async start(): Promise<void> {
    sh(['cp', '--sparse=always', this.image, this.base]);
    sh(['mv', this.image, this.backing]); // the image's directory may be on another filesystem
    const child = spawn(logfsBinary(), [this.backing, this.log, path.basename(this.image), this.fuseDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += String(d)));
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        this.died = `logfs exited (code ${code}, signal ${signal}): ${stderr}`;
        resolve();
      }),
    );
    this.scratch.defer(() => this.teardown());
    for (let i = 0; !existsSync(path.join(this.fuseDir, 'ctl')); i++) {
      if (child.exitCode !== null || i > 200) throw new Error(`logfs did not come up: ${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    await awaitReleased(this.image);
    this.loop = sh(['losetup', '--find', '--show', ...(this.opts.directIo ? ['--direct-io=on'] : []), this.image]).trim();
    const options = this.spec.options.split(',').filter((o) => o !== 'loop' && o !== 'defaults' && o !== 'nofail' && !o.startsWith('x-'));
    sh(['mount', '-t', this.spec.type, ...(options.length ? ['-o', options.join(',')] : []), this.loop, this.spec.where]);
    expectOwnFsid(this.spec.where);
  }

  /** The control file: a line written to it becomes a mark in the log. */
  get ctl(): string {
    return path.join(this.fuseDir, 'ctl');
  }

  /** Puts a named mark in the log, ordered with the writes and flushes around it. */
  async mark(name: string): Promise<void> {
    await appendFile(path.join(this.fuseDir, 'ctl'), `${name}\n`);
  }

  /** Unmounts the crypt, detaches the loop device, stops logfs; returns the log. */
  async stop(): Promise<Recording> {
    // logfs must have lived through the whole recording, or the log is incomplete.
    if (this.died) throw new Error(this.died);
    await umountPatiently(this.spec.where);
    await this.teardown();
    return { log: this.log, base: this.base, records: readLog(this.log) };
  }

  private async teardown(): Promise<void> {
    if (this.loop) {
      spawnSync('umount', [this.spec.where], { stdio: 'ignore' });
      // Btrfs remembers the device by fsid; forget it so the replayed copies (same fsid) mount cleanly.
      spawnSync('btrfs', ['device', 'scan', '--forget', this.loop], { stdio: 'ignore' });
      sh(['losetup', '-d', this.loop]);
      this.loop = undefined;
    }
    if (this.child) {
      // Also after logfs died: its mount stays behind (ENOTCONN) until unmounted.
      spawnSync('fusermount3', ['-u', '-z', this.fuseDir], { stdio: 'ignore' });
      const t = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(t);
    }
    this.child = undefined;
  }
}

export interface ReplayedState {
  point: FlushPoint;
  /** Position among all the states of the window (1-based) and their count. */
  n: number;
  of: number;
}

/**
 * Rebuilds the image at each chosen state in order and writes it to `image` (the path the crypt's
 * configuration names), then calls `visit`, which mounts and checks it. Returns the states visited.
 */
export async function replayStates(
  rec: Recording,
  image: string,
  states: FlushPoint[],
  visit: (s: ReplayedState) => Promise<void>,
  probe?: (point: FlushPoint) => Promise<boolean>,
): Promise<ReplayedState[]> {
  // Sampling picks evenly spread states; a probe (a quick look at each other state, e.g. its journal)
  // adds the ones where the operation is in its riskiest window, so the quick run still covers them.
  const chosen = new Set(pickStates(states));
  const probing = probe !== undefined && process.env.LYCHD_POWERCUT !== 'all';
  const work = `${rec.base}.work`;
  sh(['cp', '--sparse=always', rec.base, work]);
  const fh = await open(work, 'r+');
  const visited: ReplayedState[] = [];
  try {
    let done = 0;
    for (const [i, point] of states.entries()) {
      if (!chosen.has(point) && !probing) continue;
      applyRecords(rec.log, rec.records, fh.fd, done, point.index + 1);
      done = point.index + 1;
      await rm(image, { force: true });
      sh(['cp', '--sparse=always', work, image]);
      if (!chosen.has(point)) {
        if (!(await probe!(point))) continue;
        sh(['cp', '--sparse=always', work, image]); // the probe's mount may have replayed the log tree
      }
      const s = { point, n: i + 1, of: states.length };
      visited.push(s);
      await visit(s);
    }
  } finally {
    await fh.close();
    await rm(work, { force: true });
  }
  return visited;
}

/**
 * Mounts a replayed image as boot would (the fstab line, loop device auto-detached at unmount), once the
 * previous state's filesystem (the same UUID) is released.
 */
export async function mountReplayed(spec: MountSpecLine, extra: string[] = []): Promise<() => Promise<void>> {
  const options = [...spec.options.split(',').filter((o) => o !== 'defaults' && o !== 'nofail' && !o.startsWith('x-')), ...extra];
  if (!options.includes('loop')) options.push('loop');
  await awaitReleased(spec.what);
  sh(['mount', '-t', spec.type, '-o', options.join(','), spec.what, spec.where]);
  try {
    expectOwnFsid(spec.where);
  } catch (e) {
    spawnSync('umount', [spec.where], { stdio: 'ignore' });
    throw e;
  }
  return async () => {
    const dev = sh(['findmnt', '-n', '-o', 'SOURCE', '--mountpoint', spec.where]).trim();
    await umountPatiently(spec.where);
    spawnSync('btrfs', ['device', 'scan', '--forget', dev], { stdio: 'ignore' });
    spawnSync('losetup', ['-d', dev], { stdio: 'ignore' }); // usually gone already (autoclear)
  };
}

export { statesBetween };

/**
 * A whole "host" for the tests whose operation writes on more than the crypt (init, a rollback with walDir):
 * an ext4 image in a directory of its own (logfs covers that directory while recording), mounted nowhere
 * yet; everything the answers put under `host` lands on it, so one log orders every write.
 */
export function makeRecordedHost(scratch: Scratch, size: string): { image: string; host: string; spec: MountSpecLine } {
  const image = scratch.path('hostimg/host.img');
  mkdirSync(path.dirname(image));
  sh(['truncate', '-s', size, image]);
  sh(['mkfs.ext4', '-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0,nodiscard', image]);
  const host = scratch.path('host');
  mkdirSync(host);
  return { image, host, spec: { what: image, where: host, type: 'ext4', options: 'defaults' } };
}

/** Unmounts the crypt if mounted and makes Btrfs forget its loop device (the replays share its fsid). */
export async function unmountCrypt(crypt: string): Promise<void> {
  const dev = spawnSync('findmnt', ['-n', '-o', 'SOURCE', '--mountpoint', crypt], { encoding: 'utf8' }).stdout.trim();
  if (!dev) return;
  await umountPatiently(crypt);
  spawnSync('btrfs', ['device', 'scan', '--forget', dev], { stdio: 'ignore' });
  spawnSync('losetup', ['-d', dev], { stdio: 'ignore' }); // usually gone already (autoclear)
}

/**
 * Every replayed state is a byte copy of the same filesystem (one UUID). If the previous one is still
 * open — unmounted here, but kept alive by a mount namespace another test created while it was mounted
 * (`unshare --propagation private` copies every mount and never sees the unmount) — the kernel (6.7+)
 * mounts the next copy under a temporary fsid, and the tool rightly says the crypt is not as registered.
 * So wait until no filesystem with the image's UUID is open (/sys/fs/btrfs/<uuid> exists exactly while it
 * is), and say who holds it if that does not happen.
 */
export async function awaitReleased(image: string, timeoutMs = 60_000): Promise<void> {
  const uuid = spawnSync('blkid', ['-s', 'UUID', '-o', 'value', image], { encoding: 'utf8' }).stdout.trim();
  if (!uuid) return;
  for (const started = Date.now(); existsSync(`/sys/fs/btrfs/${uuid}`); ) {
    if (Date.now() - started > timeoutMs) throw new Error(`the rig cannot mount ${image}: a filesystem with its UUID ${uuid} is still open (${holdersOf(uuid)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The filesystem mounted at `where` must carry its own UUID, not a temporary fsid. */
function expectOwnFsid(where: string): void {
  const dev = sh(['findmnt', '-n', '-o', 'SOURCE', '--mountpoint', where]).trim().split('\n').pop()!;
  const fsid = readdirSync('/sys/fs/btrfs').find((f) => existsSync(`/sys/fs/btrfs/${f}/devices/${path.basename(dev)}`));
  if (fsid && readFileSync(`/sys/fs/btrfs/${fsid}/temp_fsid`, 'utf8').trim() === '1') {
    const uuid = readFileSync(`/sys/fs/btrfs/${fsid}/metadata_uuid`, 'utf8').trim();
    throw new Error(`the rig mounted ${where} under a temporary fsid ${fsid}: another copy of its filesystem (UUID ${uuid}) is open (${holdersOf(uuid)})`);
  }
}

/** The devices of the open filesystem `uuid` and the processes whose mount namespace mounts them. */
function holdersOf(uuid: string): string {
  const devices = readdirSync(`/sys/fs/btrfs/${uuid}/devices`, { withFileTypes: true }).map((d) => `/dev/${d.name}`);
  return `${devices.join(', ')}; mounted in the mount namespace of pid ${mountersOf(devices).join(', ') || '(none found: being released)'}`;
}

/** One process per mount namespace that mounts one of `devices`. */
function mountersOf(devices: string[]): string[] {
  const pids: string[] = [];
  const seen = new Set<string>();
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const ns = readlinkSync(`/proc/${pid}/ns/mnt`);
      if (seen.has(ns)) continue;
      seen.add(ns);
      const info = readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
      if (devices.some((d) => info.includes(` ${d} `))) pids.push(`${pid} (${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()})`);
    } catch {
      /* gone */
    }
  }
  return pids;
}

/**
 * Unmounts, waiting out a server or command that is still exiting (a just-stopped postmaster's
 * children can hold the mount for a moment); then says who holds it.
 */
export async function umountPatiently(where: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (spawnSync('umount', [where], { stdio: 'ignore' }).status === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  const holders = spawnSync('fuser', ['-m', where], { encoding: 'utf8' }).stdout.trim();
  // No process may hold it, yet a loop device whose file lives here does: its filesystem is still
  // mounted in another mount namespace that copied it.
  const loops = spawnSync('losetup', ['-n', '-l', '-O', 'NAME,BACK-FILE'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([, file]) => file?.startsWith(`${where}/`))
    .map(([dev, file]) => `${dev} (${file}; mounted in the mount namespace of pid ${mountersOf([dev!]).join(', ') || 'none'})`);
  throw new Error(`cannot unmount ${where}: busy (processes: ${holders || 'none'}; loop devices backed here: ${loops.join(', ') || 'none'})`);
}
