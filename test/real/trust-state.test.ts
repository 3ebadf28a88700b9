// Trust, continued (issue 22, findings 6–9 and the pg_ctl shell): the files root reads from directories
// others can write, the tool's own state checked before anything acts on it, and a rootless crypt under
// root — tried as the postgres user and a crypt's owner would, with real users, real crypts and a real
// PostgreSQL. Nothing of a file a link points at is printed, a FIFO hangs nothing, a crafted journal is a
// refusal that names the file and the fix, and no message advises what cannot work for its reader.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmod, chown, lstat, mkdir, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { installRuntime } from '../../src/install/steps/install-runtime.js';
import { runAs, type UserRun } from '../helpers/as-user.js';
import { makeCryptFixture, type CryptFixture } from '../helpers/crypt-fixture.js';
import { skipReason } from '../helpers/env.js';
import { ids, makeUser, sh, type TestUser } from '../helpers/host.js';
import { fstypeAt, parseJsonOutput, writeAnswers } from '../helpers/init.js';
import { cryptWithServer } from '../helpers/snap.js';
import { cliSuite } from '../helpers/suite.js';
import type { Scratch } from '../helpers/scratch.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');
const NO_STACK = /^\s+at /m;

describe.skipIf(skip)(`trust: state root reads and what it says ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  /**
   * The runtime as root in a child process, with root's plain environment, from `cwd`; killed after
   * `timeoutMs` (a command that hangs is a failure, never a hung test).
   */
  function asRoot(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<UserRun & { killed: boolean }> {
    const env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/root', LYCHD_CRYPT_REGISTRY: process.env.LYCHD_CRYPT_REGISTRY!, LYCHD_CRYPT_COMPILE_CACHE: process.env.LYCHD_CRYPT_COMPILE_CACHE! };
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [suite.bundle, ...args], { env, cwd: opts.cwd ?? '/', timeout: opts.timeoutMs ?? 60_000, killSignal: 'SIGKILL' });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += String(d)));
      child.stderr.on('data', (d) => (stderr += String(d)));
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code: code ?? -1, stdout, stderr, killed: signal === 'SIGKILL', ...parseJsonOutput(stdout) }));
    });
  }
  const asUser = (user: TestUser, argv: string[]) => runAs(user, argv);
  const cliAsUser = (user: TestUser, args: string[]) => runAs(user, [process.execPath, suite.bundle, ...args]);

  /** pg_ctl's log directory in a system crypt's state directory, the postgres user's (as `db start` makes it). */
  async function pgLogDir(fx: CryptFixture): Promise<string> {
    const pgUser = ids('postgres');
    await mkdir(fx.paths.pgLog, { recursive: true, mode: 0o700 });
    await chown(fx.paths.pgLog, pgUser.uid, pgUser.gid);
    return fx.paths.pgLog;
  }
  const postgresUser = (): TestUser => ({ name: 'postgres', ...ids('postgres'), home: '/' });

  it('6: pg_ctl.log linked by the postgres user to a root-only file: nothing of it is printed, in text or --json', async () => {
    const scratch = await suite.scratch();
    const { fx } = await cryptWithServer(scratch, 15);
    const secret = scratch.path('root-only.txt');
    await writeFile(secret, 'ROOT-ONLY-SECRET line 1\nROOT-ONLY-SECRET line 2\n', { mode: 0o600 });
    const dir = await pgLogDir(fx);
    expect((await asUser(postgresUser(), ['ln', '-s', secret, path.join(dir, 'pg_ctl.log')])).code).toBe(0);

    const text = await asRoot(['--crypt', fx.root, 'db', 'status']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout + text.stderr).not.toContain('ROOT-ONLY-SECRET');
    expect(text.stdout).toMatch(/pg_ctl's log: .*pg_ctl\.log is a symbolic link; it was not read/);
    const json = await asRoot(['--crypt', fx.root, '--json', 'db', 'status']);
    expect(json.stdout + json.stderr).not.toContain('ROOT-ONLY-SECRET');
    expect(json.json.logTail).toBeNull();
    expect(json.json.logProblem).toMatch(/is a symbolic link/);
  });

  it('7: pg_ctl.log made a FIFO by the postgres user: db status returns at once, saying so', async () => {
    const scratch = await suite.scratch();
    const { fx } = await cryptWithServer(scratch, 15);
    const dir = await pgLogDir(fx);
    expect((await asUser(postgresUser(), ['mkfifo', path.join(dir, 'pg_ctl.log')])).code).toBe(0);
    for (const args of [['db', 'status'], ['--json', 'db', 'status']]) {
      const r = await asRoot(['--crypt', fx.root, ...args], { timeoutMs: 20_000 });
      expect(r.killed, 'db status hung on the FIFO').toBe(false);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/pg_ctl\.log is a FIFO \(named pipe\), not a regular file; it was not read/);
    }
  });

  /** A rootless crypt of `owner` (no database), mounted in its home, its runtime installed, with one snapshot. */
  async function rootlessCrypt(scratch: Scratch, owner: TestUser): Promise<{ fx: CryptFixture; snap: string }> {
    const fx = await makeCryptFixture(scratch, { owner, rootless: true, root: path.join(owner.home, '.local/share/lychd'), sizeMiB: 300, postgres: false });
    await chmod(path.dirname(suite.bundle), 0o755);
    await installRuntime({ kind: 'install-runtime', source: suite.bundle, target: path.join(fx.config.install.binDir, 'lychd-crypt'), mode: 0o755 });
    const s = await cliAsUser(owner, ['--json', 'snapshot', '--label', 'first']);
    expect(s.code, s.stderr).toBe(0);
    return { fx, snap: s.json.snapshot.name };
  }

  it('8: a crafted journal (missing fields, wrong types, unknown op, huge, a link) is a refusal naming the file and the fix; doctor and repair say the same', { timeout: 300_000 }, async () => {
    const scratch = await suite.scratch();
    const owner = makeUser(scratch);
    const { fx, snap } = await rootlessCrypt(scratch, owner);
    const journal = fx.paths.journal;
    const secret = scratch.path('root-only.json');
    await writeFile(secret, '{"ROOT-ONLY": 1}', { mode: 0o600 });
    const base = { op: 'rollback', id: 'x1', startedAt: '2026-01-01T00:00:00Z', target: snap, staging: '.staging-x1', preRollbackName: 'p', phase: 'started', wasRunning: false, stagedUuid: null };
    const plant: [string, string][] = [
      ['missing fields', `echo '{"op":"rollback","phase":"started","id":"x","startedAt":"2026-01-01T00:00:00Z"}' > ${journal}`],
      ['wrong types', `echo '${JSON.stringify({ ...base, target: 42, wasRunning: 'yes' })}' > ${journal}`],
      ['unknown op', `echo '${JSON.stringify({ ...base, op: 'format-disk' })}' > ${journal}`],
      ['huge', `head -c 300000 /dev/zero | tr '\\0' ' ' > ${journal}`],
      ['a link', `ln -s ${secret} ${journal}`],
    ];
    const mutating = [['snapshot'], ['rollback', snap, '--yes'], ['delete', snap, '--yes'], ['prune', '--keep', '1'], ['pin', snap], ['label', snap, 'x']];
    const before = (await readdir(fx.paths.snapshots)).sort();
    for (const [what, script] of plant) {
      await rm(journal, { force: true });
      expect((await asUser(owner, ['sh', '-c', script])).code, what).toBe(0);
      const planted = await lstat(journal);
      for (const args of mutating) {
        // Root's commands run as the owner on a rootless crypt: both must refuse the same way.
        for (const run of [() => asRoot(['--crypt', owner.name, ...args]), () => cliAsUser(owner, ['--crypt', owner.name, ...args])]) {
          const r = await run();
          const all = r.stdout + r.stderr;
          expect(r.code, `${what}: ${args.join(' ')}: ${all}`).toBe(3);
          expect(r.stderr).toContain(`the journal ${journal}`);
          expect(r.stderr).toMatch(/Run `.*lychd-crypt( --registry \S+)?( --crypt \S+)? repair`: it shows the journal, sets it aside/);
          expect(all).not.toMatch(/Cannot read properties|undefined|an unexpected error/);
          expect(all).not.toMatch(NO_STACK);
          expect(all).not.toContain('ROOT-ONLY');
        }
      }
      // Nothing else changed: the snapshots, and the journal itself.
      expect((await readdir(fx.paths.snapshots)).sort(), what).toEqual(before);
      expect((await lstat(journal)).mtimeMs, what).toBe(planted.mtimeMs);

      // doctor: the finding names the file and the fix; repair without consent leaves it (exit 3) and says why.
      const doctor = await asRoot(['--crypt', owner.name, 'doctor']);
      expect(doctor.code, what).toBe(1);
      expect(doctor.stdout).toContain(`the journal ${journal}`);
      expect(doctor.stdout).toMatch(/set it aside \(repair asks first/);
      expect(doctor.stdout + doctor.stderr).not.toMatch(/started undefined|Cannot read|ROOT-ONLY/);
      const withheld = await asRoot(['--crypt', owner.name, 'repair']);
      expect(withheld.code, withheld.stdout + withheld.stderr).toBe(3);
      expect(withheld.stdout + withheld.stderr).toMatch(/set the unusable journal aside/);
      expect((await lstat(journal)).mtimeMs).toBe(planted.mtimeMs);
    }
    // With consent the journal is set aside (kept beside it) and the crypt works again.
    const repair = await asRoot(['--crypt', owner.name, 'repair', '--yes']);
    expect(repair.code, repair.stdout + repair.stderr).toBe(0);
    expect(existsSync(journal)).toBe(false);
    const aside = (await readdir(fx.paths.state)).filter((f) => f.startsWith('journal.json.invalid-'));
    expect(aside).toHaveLength(1);
    expect(await readlink(path.join(fx.paths.state, aside[0]!))).toBe(secret); // the link itself, moved
    expect((await cliAsUser(owner, ['snapshot'])).code).toBe(0);
  });

  it('8 (metadata): metadata that fails its schema is left out by list with a warning, reported by doctor, set aside and rebuilt by repair', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { sizeMiB: 300, postgres: false });
    const s = await asRoot(['--crypt', fx.root, '--json', 'snapshot', '--label', 'kept']);
    expect(s.code, s.stderr).toBe(0);
    const name: string = s.json.snapshot.name;
    const file = path.join(fx.paths.snapshots, `${name}.json`);
    const meta = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify({ ...meta, label: 5, origin: null }));

    const list = await asRoot(['--crypt', fx.root, '--json', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.json.snapshots).toEqual([]);
    expect(list.stderr).toMatch(new RegExp(`ignoring 1 snapshot\\(s\\) whose metadata cannot be read: ${name}`));
    const doctor = await asRoot(['--crypt', fx.root, 'doctor']);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain(`${name}.json is not valid snapshot metadata (label: expected string, got number 5, and 1 more problem)`);
    expect(doctor.stdout).toMatch(/snapshots\.metadata-invalid/);
    expect(doctor.stdout + doctor.stderr).not.toMatch(NO_STACK);

    const withheld = await asRoot(['--crypt', fx.root, 'repair']);
    expect(withheld.code).toBe(3);
    expect(JSON.parse(await readFile(file, 'utf8')).label).toBe(5); // not rebuilt over the file without consent
    const repair = await asRoot(['--crypt', fx.root, 'repair', '--yes']);
    expect(repair.code, repair.stdout + repair.stderr).toBe(0);
    expect((await readdir(fx.paths.snapshots)).filter((f) => f.startsWith(`${name}.json.invalid-`))).toHaveLength(1);
    const after = await asRoot(['--crypt', fx.root, '--json', 'list']);
    expect(after.json.snapshots.map((x: { name: string }) => x.name)).toEqual([name]);
  });

  it('9: root\'s repair on an unmounted rootless crypt mounts it (root\'s part) and finishes as the owner; nobody is told what cannot work for them', { timeout: 300_000 }, async () => {
    const scratch = await suite.scratch();
    const owner = makeUser(scratch);
    const { fx } = await rootlessCrypt(scratch, owner);
    // Soft assertions for the messages: every one that fails is reported, not only the first.
    // Permission denied inside the owner's process, for root: never "run as root".
    await chown(fx.paths.snapshots, 0, 0);
    const denied = await asRoot(['--crypt', owner.name, 'snapshot']);
    await chown(fx.paths.snapshots, owner.uid, owner.gid);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/permission denied|not permitted/i);
    expect.soft(denied.stderr).not.toMatch(/as root/);

    sh(['umount', fx.root]);
    expect(fstypeAt(fx.root)).toBeNull();
    const sudoRepair = new RegExp(`sudo (\\S*/)?lychd-crypt (--registry \\S+ )?repair --crypt ${owner.name}\``);

    // The owner cannot mount it: every command says so and gives the exact root command.
    const own = await cliAsUser(owner, ['--crypt', owner.name, 'snapshot']);
    expect(own.code).toBe(1);
    expect.soft(own.stderr).toMatch(/is not mounted/);
    expect.soft(own.stderr).toMatch(/[Oo]nly root can mount (it|the crypt): `sudo/);
    expect.soft(own.stderr).toMatch(sudoRepair);
    const ownRepair = await cliAsUser(owner, ['--crypt', owner.name, 'repair']);
    expect(ownRepair.code).toBe(1);
    expect.soft(ownRepair.stdout).toMatch(/only root can mount .*: `sudo/);
    expect.soft(ownRepair.stdout).toMatch(sudoRepair);
    expect(fstypeAt(fx.root)).toBeNull();

    // Root's runtime commands other than repair say repair mounts it (root's repair can now).
    const rootSnap = await asRoot(['--crypt', owner.name, 'snapshot']);
    expect(rootSnap.code).toBe(1);
    expect.soft(rootSnap.stderr).toMatch(/Run `(\S*\/)?lychd-crypt( --registry \S+)?( --crypt \S+)? repair` to mount it again/);

    // Root's repair: root mounts it itself, then the owner's process repairs the rest.
    const repair = await asRoot(['--crypt', owner.name, 'repair']);
    for (const r of [own, ownRepair, rootSnap, repair]) {
      expect.soft(r.stdout + r.stderr).not.toMatch(/as root|an unexpected error/);
      expect.soft(r.stdout + r.stderr).not.toMatch(NO_STACK);
    }
    expect(repair.code, repair.stdout + repair.stderr).toBe(0);
    expect(fstypeAt(fx.root)).toBe('btrfs');
    expect(repair.stderr).toMatch(/mount .* at .*\.local\/share\/lychd/);
    // The rest ran as the owner: what it made is the owner's.
    const s = await asRoot(['--crypt', owner.name, '--json', 'snapshot']);
    expect(s.code, s.stderr).toBe(0);
    expect((await lstat(path.join(fx.paths.snapshots, s.json.snapshot.name))).uid).toBe(owner.uid);
  });

  it('init refuses a crypt path holding what /bin/sh interprets: exit 2, file:line:col, the characters named, nothing made', async () => {
    const scratch = await suite.scratch();
    const pwned = scratch.path('pwned');
    const crypt = scratch.path(`c$(touch ${pwned})`);
    const file = writeAnswers(scratch, { crypt: { path: crypt }, method: 'loopback', loopback: { image: scratch.path('img/crypt.img'), size: '200M' } });
    const r = await asRoot(['init', '--answers', file, '--yes']);
    expect(r.code, r.stderr).toBe(2);
    const line = (await readFile(file, 'utf8')).split('\n').findIndex((l) => l.includes('c$(touch')) + 1;
    expect(r.stderr).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:${line}:\\d+: crypt\\.path: expected a path without characters /bin/sh interprets \\(pg_ctl starts PostgreSQL through it\\); it holds \\$`));
    expect(existsSync(crypt)).toBe(false);
    expect(existsSync(scratch.path('img'))).toBe(false);
    expect(existsSync(pwned)).toBe(false);
  });

  it('a postmaster the tool starts has its own user\'s HOME and not root\'s working directory', async () => {
    const scratch = await suite.scratch();
    const { fx } = await cryptWithServer(scratch, 15);
    // Root runs the command from a directory only root can enter, with HOME=/root.
    const rootCwd = scratch.path('root-cwd');
    await mkdir(rootCwd, { mode: 0o700 });
    expect((await asRoot(['--crypt', fx.root, 'db', 'stop'], { cwd: rootCwd })).code).toBe(0);
    const start = await asRoot(['--crypt', fx.root, 'db', 'start'], { cwd: rootCwd });
    expect(start.code, start.stderr).toBe(0);
    const pid = Number((await readFile(path.join(fx.pgdata, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
    const home = sh(['getent', 'passwd', 'postgres']).trim().split(':')[5];
    expect(environ).toContain(`HOME=${home}`);
    expect(environ).toContain('USER=postgres');
    expect(environ.filter((e) => e.startsWith('HOME='))).toEqual([`HOME=${home}`]);
    // The postmaster moves into PGDATA itself; what it must not have is root's directory.
    const cwd = await readlink(`/proc/${pid}/cwd`);
    expect(cwd).not.toBe(rootCwd);
    expect([fx.pgdata, '/']).toContain(cwd);
  });
});
