// Root at a real terminal (tmux) running a runtime command on a rootless crypt: the command runs as the
// owner, and no process of the owner's may hold root's terminal — neither as a descriptor nor as its
// controlling terminal — or the owner could type into root's shell (TIOCSTI through a debugger attached to
// its own process) or read what root types (pidfd_getfd). Root relays through a pseudo-terminal of its own;
// window size, Ctrl-C, Ctrl-Z, prompts, exit status and signal death still come through, and root's
// terminal has its modes back afterwards. Without a terminal the owner's process gets none.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { access, chmod } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { runAs, type UserRun } from '../helpers/as-user.js';
import { makeCryptFixture, type CryptFixture } from '../helpers/crypt-fixture.js';
import { skipReason, toolSkipReason } from '../helpers/env.js';
import { ids, makeUser, type TestUser } from '../helpers/host.js';
import type { Scratch } from '../helpers/scratch.js';
import { cliSuite } from '../helpers/suite.js';
import { openTerminal, stopAndContinue, type Terminal } from '../helpers/tmux.js';

const skip = skipReason('root', 'btrfs', 'loop', 'tmux') ?? toolSkipReason('gdb');

interface OwnerProcess {
  pid: number;
  cmd: string;
  /** What its descriptors point at (readlink /proc/PID/fd/N). */
  fds: string[];
  /** Its controlling terminal's device number (field 7 of /proc/PID/stat), 0 for none. */
  ttyNr: number;
}

/** The controlling terminal's device number (field 7) in a /proc/PID/stat line; 0 for none. */
const ttyNrIn = (stat: string) => Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[4]);

/** Every process whose real, effective or saved uid is `uid`. */
function processesOf(uid: number): OwnerProcess[] {
  const found: OwnerProcess[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const uids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${name}/status`, 'utf8'));
      if (!uids || !uids.slice(1, 4).map(Number).includes(uid)) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fds = readdirSync(`/proc/${name}/fd`).map((fd) => {
        try {
          return readlinkSync(`/proc/${name}/fd/${fd}`);
        } catch {
          return '';
        }
      });
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      found.push({ pid: Number(name), cmd, fds, ttyNr: ttyNrIn(stat) });
    } catch {
      /* gone meanwhile */
    }
  }
  return found;
}

/** The owner's processes that hold `tty` (as an fd or as their controlling terminal), one line each. */
function holdersOf(uid: number, tty: string): string[] {
  const rdev = statSync(tty).rdev;
  return processesOf(uid).flatMap((p) => [
    ...p.fds.filter((f) => f === tty).map(() => `${p.pid} (${p.cmd}) has ${tty} open`),
    ...(p.ttyNr === rdev ? [`${p.pid} (${p.cmd}) has ${tty} as its controlling terminal`] : []),
  ]);
}

/** Shell lines recording in `out` what runs them: uid, /proc stat line, stdin, and whether /dev/tty opens. */
const probeLines = (out: string) =>
  `id -u > ${out}/uid\ncat /proc/self/stat > ${out}/stat\nreadlink /proc/self/fd/0 > ${out}/stdin\n(: < /dev/tty) 2>/dev/null && echo yes > ${out}/tty || echo no > ${out}/tty\n`;

/** What the owner gets by stealing every descriptor of each of its processes (pidfd_getfd): the terminals among them. */
const STEAL = `
import ctypes, os, stat, sys
libc = ctypes.CDLL(None, use_errno=True)
target = os.stat(sys.argv[1]).st_rdev
for pid in filter(str.isdigit, os.listdir('/proc')):
    if int(pid) == os.getpid():
        continue
    try:
        pidfd = os.pidfd_open(int(pid))
        fds = os.listdir(f'/proc/{pid}/fd')
    except OSError:
        continue
    for fd in map(int, fds):
        stolen = libc.syscall(438, pidfd, fd, 0)  # pidfd_getfd
        if stolen >= 0:
            st = os.fstat(stolen)
            if stat.S_ISCHR(st.st_mode) and st.st_rdev == target:
                print(f'stole fd {fd} of {pid}: the terminal')
            os.close(stolen)
`;

/** gdb, as the owner, attached to `pid`: types `text` into its fd 0 and into its /dev/tty with TIOCSTI. */
function inject(owner: TestUser, pid: number, text: string): Promise<UserRun> {
  const sti = (fd: string) => [...text].map((c) => `call (int)ioctl(${fd}, 0x5412, "${c === '\n' ? '\\n' : c}")`);
  const script = ['set $tty = (int)open("/dev/tty", 2)', ...sti('0'), ...sti('$tty')];
  return runAs(owner, ['gdb', '-p', String(pid), '-batch', '-nx', ...script.flatMap((s) => ['-ex', s])]);
}

describe.skipIf(skip)(`root's terminal and a rootless crypt ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  /**
   * A rootless crypt (no database) of a fresh owner; root's interactive shell in a fresh terminal; `out`, a
   * directory where COMMAND (the owner's) writes what it saw; `f(name)`, a scratch file of root's.
   */
  async function rootAtTerminal() {
    const scratch = await suite.scratch();
    const owner = makeUser(scratch);
    const fx = await makeCryptFixture(scratch, { postgres: false, owner, rootless: true, root: path.join(owner.home, '.local/share/lychd') });
    await chmod(path.dirname(suite.bundle), 0o755); // the owner runs the same runtime
    const out = scratch.path('out');
    mkdirSync(out);
    chownSync(out, owner.uid, owner.gid);
    const t = await rootShell(scratch);
    return { scratch, owner, fx, cli: `node ${suite.bundle} --crypt ${fx.root}`, out, t, f: (name: string) => scratch.path(name) };
  }

  /** An interactive root shell in a fresh terminal. */
  async function rootShell(scratch: Scratch): Promise<Terminal> {
    const t = openTerminal(scratch, ['bash', '--norc', '--noprofile', '-i']);
    await t.waitFor(/bash-[\d.]+#/);
    return t;
  }

  const read = (file: string) => readFileSync(file, 'utf8').trim();

  const sleeping = (uid: number) => processesOf(uid).find((p) => p.cmd === 'sleep 1000');

  test("attack: the owner cannot reach root's terminal — no owner process holds it, and keys injected with TIOCSTI never reach root's shell", async () => {
    const { owner, cli, t, f } = await rootAtTerminal();
    const tty = t.tty();
    t.type(`${cli} run -- sh -c 'echo started; sleep 1000; echo finished'; echo "status=$?"`);
    t.keys('Enter');
    await t.waitFor(/^started/m);
    const command = sleeping(owner.uid);
    expect(command, 'COMMAND runs as the owner').toBeDefined();

    expect.soft(holdersOf(owner.uid, tty)).toEqual([]);
    const stolen = await runAs(owner, ['python3', '-c', STEAL, tty]);
    expect.soft(stolen.stderr).toBe('');
    expect.soft(stolen.stdout).toBe('');

    // The owner's debugger makes its own process type a command for root's shell.
    const pwned = f('pwned');
    const injected = await inject(owner, command!.pid, `touch ${pwned}\n`);
    expect(injected.stdout, 'the debugger typed into the terminal it reached').toMatch(/^\$1 = 0$/m);
    process.kill(command!.pid, 'SIGTERM');
    expect(await t.waitFor(/^status=\d+/m)).toMatch(/^status=0$/m);
    // Root's shell reads on: what the owner injected would come before this.
    t.type('echo "shell=$((6*7))"');
    t.keys('Enter');
    await t.waitFor(/^shell=42/m);
    expect(existsSync(pwned), 'root\'s shell ran the command the owner injected').toBe(false);
  }, 180_000);

  test("without a terminal the owner's process has none, even when root has one: stdin from /dev/null, or root's pipe", async () => {
    const { owner, cli, out, t, f } = await rootAtTerminal();
    const probe = f('probe.sh');
    writeFileSync(probe, `${probeLines(out)}cat > ${out}/input\n`);
    t.type(`${cli} run -- sh ${probe} < /dev/null > ${f('log')} 2>&1; echo "status=$?"`);
    t.keys('Enter');
    expect(await t.waitFor(/^status=\d+/m)).toMatch(/^status=0$/m);
    expect(ttyNrIn(read(`${out}/stat`)), 'no controlling terminal').toBe(0);
    expect(read(`${out}/tty`), '/dev/tty cannot be opened').toBe('no');
    expect(read(`${out}/stdin`)).toBe('/dev/null');
    expect(processesOf(owner.uid)).toEqual([]);

    t.type(`echo piped | ${cli} run -- sh ${probe} > ${f('log')} 2>&1; echo "status2=$?"`);
    t.keys('Enter');
    expect(await t.waitFor(/^status2=\d+/m)).toMatch(/^status2=0$/m);
    expect(ttyNrIn(read(`${out}/stat`))).toBe(0);
    expect(read(`${out}/stdin`)).toMatch(/^pipe:/);
    expect(read(`${out}/input`)).toBe('piped');
  }, 180_000);

  test("at a terminal: the window size reaches COMMAND (also when it changes), bytes arrive as written, stderr to a file stays apart, the exit status comes back and the modes are restored", async () => {
    const { cli, out, f, t } = await rootAtTerminal();
    t.type(`stty -g > ${f('before')}; stty size > ${f('size1')}; ${cli} run -- sh -c 'stty size > ${out}/size1; echo ready; read x; stty size > ${out}/size2; exit 5'; echo "status=$?"; stty size > ${f('size2')}; stty -g > ${f('after')}`);
    t.keys('Enter');
    await t.waitFor(/^ready/m);
    t.resize(120, 40);
    t.keys('Enter');
    expect(await t.waitFor(/^status=\d+/m)).toMatch(/^status=5$/m);
    await t.waitFor(/^bash-[\d.]+#$/m);
    expect(read(`${out}/size1`)).toBe(read(f('size1')));
    expect(read(`${out}/size2`)).toBe(read(f('size2')));
    expect(read(f('size2'))).not.toBe(read(f('size1')));
    expect(read(f('after'))).toBe(read(f('before')));

    // What reaches the terminal, recorded by script(1) on a terminal of its own: the bytes COMMAND wrote
    // (NL → CR NL once, by the terminal's own output processing), stdout's colour included; stderr, a
    // file here, gets COMMAND's stderr and nothing of stdout — with root's stdin the terminal (relayed
    // keys, raw mode) and with root's stdin not one.
    writeFileSync(f('bytes.sh'), `printf 'x\\033[31my\\033[0m\\n'\necho to-stderr >&2\n`);
    for (const [n, stdin] of [['1', ''], ['2', ' < /dev/null']] as const) {
      t.type(`script -q -e -c "${cli} run -- sh ${f('bytes.sh')}${stdin} 2> ${f(`err${n}`)}" ${f(`typescript${n}`)} > /dev/null; echo "script${n}=$?"`);
      t.keys('Enter');
      expect(await t.waitFor(new RegExp(`^script${n}=\\d+`, 'm'))).toMatch(new RegExp(`^script${n}=0$`, 'm'));
      const seen = readFileSync(f(`typescript${n}`), 'latin1');
      expect(seen).toContain('x\x1b[31my\x1b[0m\r\n');
      expect(seen).not.toContain('\r\r\n');
      expect(seen).not.toContain('to-stderr');
      expect(readFileSync(f(`err${n}`), 'utf8')).toContain('to-stderr\n');
      expect(readFileSync(f(`err${n}`), 'utf8')).not.toContain('x\x1b[31m');
    }
  }, 180_000);

  test("what the owner's side writes reaches root's terminal only as drawing: a title, a clipboard write or a query to the terminal is shown escaped", async () => {
    const { cli, f, t } = await rootAtTerminal();
    // OSC 2 (window title), OSC 52 (clipboard), DSR (the terminal would type its answer), DA, a bidi override.
    writeFileSync(f('hostile.sh'), `printf 'a\\033]2;pwned\\007b\\033]52;c;cHduZWQ=\\033\\\\c\\033[6nd\\033[ce\\342\\200\\256f\\033[32mg\\033[0m\\n'\n`);
    t.type(`script -q -e -c "${cli} run -- sh ${f('hostile.sh')}" ${f('typescript')} > /dev/null; echo "script=$?"`);
    t.keys('Enter');
    expect(await t.waitFor(/^script=\d+/m)).toMatch(/^script=0$/m);
    const seen = readFileSync(f('typescript'), 'latin1');
    expect(seen).toContain('a\\x1b]2;pwned\\x07b\\x1b]52;c;cHduZWQ=\\x1b\\c\\x1b[6nd\\x1b[ce\\u202ef\x1b[32mg\x1b[0m\r\n');
    expect(seen).not.toMatch(/\x1b\]|\x1b\[6n|\x1b\[c|\x07/);
  }, 180_000);

  test("the owner's process dying by a signal ends root's the same way; SIGTERM to root reaches the owner's; root's terminal gets its modes back", async () => {
    const { owner, cli, f, t } = await rootAtTerminal();
    t.type(`stty -g > ${f('before')}; ${cli} run -- sh -c 'echo started; sleep 1000'; echo "status=$?"; stty -g > ${f('after')}`);
    t.keys('Enter');
    await t.waitFor(/^started/m);
    const dropped = processesOf(owner.uid).find((p) => p.cmd.includes(suite.bundle));
    expect(dropped).toBeDefined();
    process.kill(dropped!.pid, 'SIGKILL');
    expect(await t.waitFor(/^status=\d+/m)).toMatch(/^status=137$/m);
    await t.waitFor(/^bash-[\d.]+#$/m);
    expect(read(f('after'))).toBe(read(f('before')));
    // COMMAND lost its terminal with its session's leader (SIGHUP): nothing of the owner's is left.
    await expect.poll(() => processesOf(owner.uid), { timeout: 10_000 }).toEqual([]);

    // SIGTERM to root's process reaches the owner's, which rolls back and exits 143; modes restored again.
    t.type(`${cli} run -- sh -c 'echo started2; sleep 1000'; echo "status2=$?"; stty -g > ${f('after2')}`);
    t.keys('Enter');
    await t.waitFor(/^started2/m);
    const root = processesOf(0).find((p) => p.cmd.startsWith('node ') && p.cmd.includes(suite.bundle));
    expect(root).toBeDefined();
    process.kill(root!.pid, 'SIGTERM');
    const screen = await t.waitFor(/^status2=\d+/m, 60_000);
    expect(screen).toMatch(/killed by SIGTERM/);
    expect(screen).toMatch(/^status2=143$/m);
    await t.waitFor(/^bash-[\d.]+#$/m);
    expect(read(f('after2'))).toBe(read(f('before')));
  }, 180_000);

  test("Ctrl-C in root's terminal reaches COMMAND through the relay and the change is rolled back; COMMAND reads the terminal and /dev/tty", async () => {
    const { fx, cli, t, f } = await rootAtTerminal();
    const typed = path.join(fx.paths.active, 'typed');
    const change = f('change.sh');
    writeFileSync(change, `printf 'name? '\nread x\necho "$x" > ${typed}\necho tty-ok > /dev/tty\necho ready\nsleep 1000\n`);
    t.type(`${cli} run --label typed -- sh ${change}; echo "status=$?"`);
    t.keys('Enter');
    await t.waitFor(/name\?/);
    t.type('hi');
    t.keys('Enter');
    await t.waitFor(/^ready/m);
    expect(t.screen()).toContain('tty-ok');
    await access(typed);
    t.keys('C-c');
    const screen = await t.waitFor(/^status=\d+/m, 60_000);
    expect(screen).toMatch(/the change FAILED: the command was killed by SIGINT/);
    expect(screen).toMatch(/^status=130$/m);
    await expect(access(typed)).rejects.toThrow();
  }, 180_000);

  test("in a pipeline root reads no keys (they stay for root's shell, or a pager); Ctrl-C still reaches COMMAND", async () => {
    const { cli, out, t, f } = await rootAtTerminal();
    const go = f('go');
    t.type(`${cli} run -- sh -c 'readlink /proc/self/fd/0 > ${out}/stdin; echo started >&2; while [ ! -e ${go} ]; do sleep 0.1; done' | cat; read y; echo "after $y"`);
    t.keys('Enter');
    await t.waitFor(/^started/m);
    t.type('typed');
    t.keys('Enter');
    await t.waitFor(/^typed/m);
    writeFileSync(go, '');
    await t.waitFor(/^after typed/m);
    expect(read(`${out}/stdin`)).toBe('/dev/null');

    // stdin a pipe: root's terminal keeps its modes, so Ctrl-C signals root, which passes it to COMMAND.
    t.type(`echo x | ${cli} run -- sh -c 'echo started2; sleep 1000'; echo "status=$?"`);
    t.keys('Enter');
    await t.waitFor(/^started2/m);
    t.keys('C-c');
    const screen = await t.waitFor(/^status=\d+/m, 60_000);
    expect(screen).toMatch(/killed by SIGINT/);
    expect(screen).toMatch(/^status=130$/m);
  }, 180_000);

  test("Ctrl-Z stops COMMAND, the owner's lychd-crypt and root's as one job; fg continues them all", async () => {
    const { cli, t } = await rootAtTerminal();
    const screen = await stopAndContinue(t, `${cli} run -- sh -c 'echo started; read x; echo "got $x"; sleep 1000; echo never'`, async () => {
      t.type('again');
      t.keys('Enter');
      await t.waitFor(/^got again/m);
    });
    expect(screen).toMatch(/^status=130$/m);
    expect(screen).toMatch(/killed by SIGINT/);
  }, 180_000);

  test("a prompt of the owner's process works through the relay: rollback asks, and y rolls back", async () => {
    const { fx, cli, t } = await rootAtTerminal();
    const snap = JSON.parse(execFileSync('sh', ['-c', `${cli} --json snapshot`], { encoding: 'utf8' }));
    writeFileSync(path.join(fx.paths.active, 'later'), 'x');
    t.type(`${cli} rollback ${snap.data.snapshot.name}; echo "status=$?"`);
    t.keys('Enter');
    await t.waitFor(/Roll back to/);
    t.keys('y');
    t.keys('Enter');
    expect(await t.waitFor(/^status=\d+/m, 120_000)).toMatch(/^status=0$/m);
    expect(existsSync(path.join(fx.paths.active, 'later'))).toBe(false);
  }, 180_000);

  test("a program root runs as another user (pg_ctl as postgres on a system crypt) has no controlling terminal", async () => {
    const scratch = await suite.scratch();
    const pg = ids('postgres');
    const out = scratch.path('out');
    mkdirSync(out);
    chownSync(out, pg.uid, pg.gid);
    // A stand-in pg_ctl (root's) that records what it can reach, then fails the start.
    const bin = scratch.path('pgbin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'pg_ctl'), `#!/bin/sh\n${probeLines(out)}exit 1\n`, { mode: 0o755 });
    const fx = await makeCryptFixture(scratch, { pgBin: bin });
    const t = await rootShell(scratch);
    t.type(`node ${suite.bundle} --crypt ${fx.root} db start; echo "status=$?"`);
    t.keys('Enter');
    expect(await t.waitFor(/^status=\d+/m, 60_000)).toMatch(/^status=1$/m);
    expect(read(`${out}/uid`)).toBe(String(pg.uid));
    expect(ttyNrIn(read(`${out}/stat`)), 'no controlling terminal').toBe(0);
    expect(read(`${out}/tty`)).toBe('no');
  }, 180_000);
});
