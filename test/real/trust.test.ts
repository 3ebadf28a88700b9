// Trust and privilege (SPEC section 8), tried as an attacker would: real users, real crypts, real renames
// and symlink swaps. Root must never act on what a less privileged user can write, and every other user
// gets a clear refusal with nothing changed. Each case is one of the findings of the trust issue.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmod, chown, mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cliAs, runAs, startAs } from '../helpers/as-user.js';
import { makeCryptFixture, type CryptFixture } from '../helpers/crypt-fixture.js';
import { skipReason } from '../helpers/env.js';
import { makeLoopDevice, makeUser, sh, type TestUser } from '../helpers/host.js';
import { runCli, writeAnswers } from '../helpers/init.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite } from '../helpers/suite.js';
import { startTestServer } from '../helpers/pg.js';
import { cli, cliChild, cryptWithServer } from '../helpers/snap.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');
const NO_STACK = /^\s+at /m;

describe.skipIf(skip)(`trust: root never acts on what a user can write ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();
  let scratch: Scratch;
  let bundle: string;
  beforeAll(async () => {
    bundle = suite.bundle;
    await chmod(path.dirname(bundle), 0o755); // other users run it too
  });

  /** A system-profile crypt (PostgreSQL as the postgres user) owned by `user`, mounted in its home. */
  const cryptOf = (user: TestUser, opts: { rootless?: boolean } = {}): Promise<CryptFixture> =>
    makeCryptFixture(scratch, { owner: user, root: path.join(user.home, '.local/share/lychd'), sizeMiB: 300, rootless: opts.rootless });
  const asUser = (user: TestUser, argv: string[]) => runAs(user, argv);
  const snapshots = async (fx: CryptFixture) => (await readdir(fx.paths.snapshots)).sort();

  it('1+2: a crypt planted after renaming the path away: root refuses, runs nothing, deletes nothing', async () => {
    scratch = await suite.scratch();
    const alice = makeUser(scratch);
    const bob = makeUser(scratch);
    const a = await cryptOf(alice);
    const b = await cryptOf(bob);
    for (const fx of [a, b]) for (const l of ['one', 'two']) expect((await cli(fx.root, ['snapshot', '--label', l])).code).toBe(0);
    const bobBefore = await snapshots(b);
    const pwned = scratch.path('pwned');
    // alice moves her whole ~/.local/share (the mount goes with it) and plants a crypt at the old path:
    // a config whose service runs a shell, a journal asking to "recover" by starting it, and snapshots/
    // pointing at bob's.
    const share = path.join(alice.home, '.local/share');
    expect((await asUser(alice, ['mv', share, `${share}.real`])).code).toBe(0);
    const fake = path.join(share, 'lychd');
    const plant = [
      `mkdir -p ${fake}/.lychd-crypt ${fake}/active`,
      `ln -s ${b.paths.snapshots} ${fake}/snapshots`,
      `echo '${JSON.stringify({ ...a.config, postgres: { ...a.config.postgres, service: { kind: 'command', stop: ['true'], start: ['sh', '-c', `touch ${pwned}`] } } })}' > ${fake}/.lychd-crypt/config.json`,
      `echo '{"op":"rollback","id":"x","startedAt":"2026-01-01T00:00:00Z","target":"t","staging":".staging-x","preRollbackName":"p","phase":"started","wasRunning":true,"stagedUuid":null}' > ${fake}/.lychd-crypt/journal.json`,
    ].join(' && ');
    expect((await asUser(alice, ['sh', '-c', plant])).code).toBe(0);

    for (const args of [['prune', '--keep', '1'], ['snapshot'], ['rollback', 'p', '--yes'], ['delete', bobBefore[0]!, '--yes']]) {
      for (const target of [a.root, alice.name]) {
        const r = await cliAs(null, bundle, ['--crypt', target, ...args]);
        // Its Btrfs is no longer at the registered path: "not mounted" (1), or a refusal (3) — never an action.
        expect([1, 3], `${args.join(' ')}: ${r.stderr}`).toContain(r.code);
        expect(r.stderr).toMatch(/not the registered crypt|is not mounted/);
        expect(r.stderr).not.toMatch(NO_STACK);
      }
    }
    expect(existsSync(pwned)).toBe(false);
    expect(await snapshots(b)).toEqual(bobBefore);
  });

  it('2: a rename/symlink swap racing root\'s prune never sends it to another user\'s snapshots', { timeout: 300_000 }, async () => {
    scratch = await suite.scratch();
    const alice = makeUser(scratch);
    const bob = makeUser(scratch);
    const a = await cryptOf(alice);
    const b = await cryptOf(bob);
    for (let i = 0; i < 6; i++) expect((await cli(a.root, ['snapshot', '--label', `a${i}`])).code).toBe(0);
    for (let i = 0; i < 3; i++) expect((await cli(b.root, ['snapshot', '--label', `b${i}`])).code).toBe(0);
    const bobBefore = await snapshots(b);
    // alice flips her ~/.local/share between the real one and a decoy whose lychd/snapshots is bob's.
    const share = path.join(alice.home, '.local/share');
    const decoy = path.join(alice.home, 'decoy');
    await mkdir(path.join(decoy, 'lychd'), { recursive: true });
    await symlink(b.paths.snapshots, path.join(decoy, 'lychd/snapshots'));
    await symlink(b.paths.active, path.join(decoy, 'lychd/active'));
    sh(['chown', '-R', '-h', `${alice.uid}:${alice.gid}`, decoy]);
    const flip = `
import os, time
s, d, t = ${JSON.stringify(share)}, ${JSON.stringify(decoy)}, ${JSON.stringify(`${share}.tmp`)}
end, n = time.time() + 120, 0
while time.time() < end and not os.path.exists(${JSON.stringify(scratch.path('stop'))}):
    os.rename(s, t); os.rename(d, s); time.sleep(0.002); os.rename(s, d); os.rename(t, s); time.sleep(0.002)
    n += 1
print(n)
`;
    const swapper = startAs(alice, flip);
    let flips = '';
    const codes: number[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        const r = await cliAs(null, bundle, ['--crypt', alice.name, 'prune', '--keep', '1']);
        codes.push(r.code);
        expect(r.stderr).not.toMatch(NO_STACK);
      }
    } finally {
      await writeFile(scratch.path('stop'), '');
      flips = await swapper.done;
    }
    expect(swapper.err()).toBe('');
    expect(Number(flips)).toBeGreaterThan(0);
    // Whatever root did, it did to alice's crypt: bob's snapshots are all there.
    expect(await snapshots(b)).toEqual(bobBefore);
    // Acted on the real crypt (0), or found the decoy: "not mounted" (1) or "not the registered crypt" (3).
    for (const c of codes) expect([0, 1, 3]).toContain(c);
    if (!existsSync(a.paths.snapshots)) await rename(`${share}.tmp`, share).catch(() => {});
  });

  it('3: a symlinked PGDATA in a snapshot: rollback and verify refuse, before cleaning anything, and touch nothing outside', async () => {
    scratch = await suite.scratch();
    const alice = makeUser(scratch);
    const a = await cryptOf(alice);
    // A real (stopped) cluster in alice's crypt.
    const server = await startTestServer(scratch, { pgdata: a.pgdata, socketDir: scratch.path('sock-a'), port: 5441 });
    await server.stop();
    const victim = scratch.path('victim');
    await mkdir(victim);
    const files = ['postmaster.pid', 'recovery.signal', 'standby.signal', 'backup_label', 'tablespace_map'];
    for (const f of files) await writeFile(path.join(victim, f), 'keep');
    // A snapshot whose PGDATA is a link through one alice controls (the Ritual's preflight refuses to
    // take one, so it is made here as a crafted or older snapshot would be: subvolume plus metadata).
    const good = await cli(a.root, ['--json', 'snapshot', '--mode', 'cold']);
    expect(good.code, good.stderr).toBe(0);
    const link = path.join(alice.home, 'l');
    const plant = `mv ${a.paths.active}/postgres ${a.paths.active}/pg2 && ln -s ${link} ${a.paths.active}/postgres && ln -s ${a.paths.active}/pg2 ${link}`;
    expect((await asUser(alice, ['sh', '-c', plant])).code).toBe(0);
    const name = `${good.json.snapshot.name}-crafted`;
    sh(['btrfs', 'subvolume', 'snapshot', '-r', a.paths.active, path.join(a.paths.snapshots, name)]);
    const meta = JSON.parse(readFileSync(path.join(a.paths.snapshots, `${good.json.snapshot.name}.json`), 'utf8'));
    await writeFile(path.join(a.paths.snapshots, `${name}.json`), JSON.stringify({ ...meta, name }));
    // ... then repoints it at a directory of root's.
    expect((await asUser(alice, ['ln', '-sfn', victim, link])).code).toBe(0);
    const activeBefore = await readdir(a.paths.active);
    const back = await cli(a.root, ['rollback', name, '--yes']);
    expect(back.code).not.toBe(0);
    expect(back.stderr).toMatch(/symbolic link/);
    const ver = await cli(a.root, ['verify', name]);
    expect(ver.code).not.toBe(0);
    for (const f of files) expect(readFileSync(path.join(victim, f), 'utf8')).toBe('keep');
    expect(existsSync(path.join(victim, 'postgresql.conf'))).toBe(false);
    expect(await readdir(a.paths.active)).toEqual(activeBefore);
    expect((await readdir(a.root)).filter((n) => n.startsWith('.staging-'))).toEqual([]);
  });

  it('4: init refuses another crypt\'s image (exit 3) and each user gets an image of their own by default', async () => {
    scratch = await suite.scratch();
    const alice = makeUser(scratch);
    const bob = makeUser(scratch);
    const a = await cryptOf(alice);
    const entry = readFileSync(path.join(a.config.registry.dir, `${alice.name}.json`), 'utf8');
    const answers = writeAnswers(scratch, { crypt: { user: bob.name, path: path.join(bob.home, 'crypt') }, method: 'loopback', loopback: { image: a.config.loopback!.image } });
    const r = runCli(bundle, ['init', '--answers', answers, '--yes']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`registered crypt "${alice.name}"`));
    expect(readFileSync(path.join(a.config.registry.dir, `${alice.name}.json`), 'utf8')).toBe(entry);
    expect(sh(['findmnt', '-rn', '-o', 'TARGET', '--source', sh(['losetup', '-j', a.config.loopback!.image, '-O', 'NAME', '-n']).trim()]).trim().split('\n')).toEqual([a.root]);
    // Defaults: one image per crypt name.
    const dry = runCli(bundle, ['init', '--answers', writeAnswers(scratch, { crypt: { user: bob.name, path: path.join(bob.home, 'crypt2') }, method: 'loopback' }, 'b.yaml'), '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json.plan.config.loopback.image).toBe(`/var/lib/lychd/${bob.name}.img`);
  });

  it('5: a crypt path in another account\'s home, or inside a registered crypt, is refused (exit 2)', async () => {
    scratch = await suite.scratch();
    const alice = makeUser(scratch);
    const bob = makeUser(scratch);
    const a = await cryptOf(alice);
    const tryPath = (p: string, file: string) =>
      runCli(bundle, ['init', '--answers', writeAnswers(scratch, { crypt: { user: alice.name, path: p, name: 'other' }, method: 'loopback', loopback: { image: scratch.path('x.img'), size: '200M' } }, file), '--dry-run']);
    for (const [p, why] of [
      [path.join(bob.home, 'lychd'), /home of another account/],
      [path.join(a.root, 'active/sub'), /inside the registered crypt/],
      [path.join(a.root, 'snapshots/x'), /inside the registered crypt/],
      [path.join(a.root, '.lychd-crypt/x'), /inside the registered crypt/],
    ] as const) {
      const r = tryPath(p, `a-${path.basename(p)}.yaml`);
      expect(r.code, `${p}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(why);
    }
  });

  it('7: no password and none of root\'s environment reaches the long-running postmaster', async () => {
    scratch = await suite.scratch();
    const { fx } = await cryptWithServer(scratch, 15);
    const snap = await cli(fx.root, ['--json', 'snapshot']);
    expect(snap.code, snap.stderr).toBe(0);
    const env = { PGPASSWORD: 'canary-password-7', LYCHD_CANARY: 'canary-env-7' };
    const r = await cliChild(bundle, fx.root, ['rollback', snap.json.snapshot.name, '--yes'], env);
    expect(r.code, r.stderr).toBe(0);
    const pid = Number(readFileSync(path.join(fx.pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
    expect(environ).not.toContain('canary-password-7');
    expect(environ).not.toContain('canary-env-7');
  });

  it('8: the image path is canonical: through a symlinked directory it cannot land inside its crypt, and a re-run through a link is a no-op', async () => {
    scratch = await suite.scratch();
    const user = makeUser(scratch);
    const crypt = path.join(user.home, 'crypt');
    await mkdir(crypt, { recursive: true });
    await chown(crypt, user.uid, user.gid);
    await symlink(crypt, scratch.path('into-crypt'));
    const inside = runCli(bundle, ['init', '--answers', writeAnswers(scratch, { crypt: { user: user.name, path: crypt }, method: 'loopback', loopback: { image: scratch.path('into-crypt/c.img'), size: '200M' } }, 'in.yaml'), '--dry-run']);
    expect(inside.code, inside.stderr).toBe(2);
    expect(inside.stderr).toMatch(/inside the crypt path/);
    await mkdir(scratch.path('images'));
    const answers = writeAnswers(scratch, { crypt: { user: user.name, path: crypt }, method: 'loopback', persist: { via: 'none' }, loopback: { image: scratch.path('images/c.img'), size: '200M' } });
    expect(runCli(bundle, ['init', '--answers', answers, '--yes']).code).toBe(0);
    await symlink(scratch.path('images'), scratch.path('images-link'));
    const again = runCli(bundle, ['init', '--answers', writeAnswers(scratch, { crypt: { user: user.name, path: crypt }, method: 'loopback', persist: { via: 'none' }, loopback: { image: scratch.path('images-link/c.img'), size: '200M' } }, 'again.yaml'), '--yes']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^nothing to do/);
    sh(['umount', crypt]);
  });

  it('9: names made in active/ cannot drive the terminal; labels with controls or bidi overrides are refused', async () => {
    scratch = await suite.scratch();
    const alice = makeUser(scratch);
    const a = await cryptOf(alice);
    const evil = 'x\u001b]0;owned\u0007\u001b[2J\u202eexe.txt';
    sh(['btrfs', 'subvolume', 'create', path.join(a.paths.active, evil)]);
    const doctor = await cli(a.root, ['doctor']);
    for (const out of [doctor.stdout, doctor.stderr]) {
      expect(out).not.toContain('\u001b');
      expect(out).not.toContain('\u202e');
    }
    expect(doctor.stdout).toContain('\\x1b');
    const snap = await cli(a.root, ['snapshot']);
    expect(snap.stderr).not.toContain('\u001b');
    for (const label of ['a\u202eb', 'a\u0085b', 'a\nb']) expect((await cli(a.root, ['snapshot', '--label', label])).code).toBe(2);
    sh(['btrfs', 'subvolume', 'delete', path.join(a.paths.active, evil)]);
  });

  it('10: a disk whose partition is mounted, or an active swap, is refused before the plan (exit 3)', async () => {
    scratch = await suite.scratch();
    const disk = makeLoopDevice(scratch, 200);
    sh(['sfdisk', '-q', disk], { input: 'label: gpt\n,50M\n,\n' });
    // The kernel may already have read the new table (then partx -a says "error adding"): update instead.
    spawnSync('partx', ['-u', disk]);
    spawnSync('partx', ['-a', disk]);
    const part = `${disk}p1`;
    // devtmpfs makes the node when the kernel has read the table; give it a moment on a loaded machine.
    for (let i = 0; i < 100 && !existsSync(part); i++) await sleep(50);
    scratch.defer(() => void sh(['partx', '-d', disk]));
    sh(['mkfs.ext4', '-q', part]);
    const mnt = scratch.path('busy');
    await mkdir(mnt);
    sh(['mount', part, mnt]);
    scratch.defer(() => void sh(['umount', mnt]));
    const user = makeUser(scratch);
    const dry = (device: string, file: string) =>
      runCli(bundle, ['init', '--answers', writeAnswers(scratch, { crypt: { user: user.name, path: path.join(user.home, 'c') }, method: 'partition', partition: { device, wipe: true } }, file), '--dry-run']);
    const r = dry(disk, 'disk.yaml');
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`${part} is mounted at ${mnt}`));
    const swap = makeLoopDevice(scratch, 64);
    sh(['mkswap', '-q', swap]);
    sh(['swapon', swap]);
    scratch.defer(() => void sh(['swapoff', swap]));
    const s = dry(swap, 'swap.yaml');
    expect(s.code, s.stderr).toBe(3);
    expect(s.stderr).toMatch(/active swap/);
  });

  it('11: a newline in a mount option or label never reaches a unit file or mkfs (exit 2, file:line:col)', async () => {
    scratch = await suite.scratch();
    const user = makeUser(scratch);
    for (const [fs, file] of [
      [{ mountOptions: ['noatime\n[Unit]\nOnFailure=evil.service'] }, 'opt.yaml'],
      [{ label: 'lychd\nevil' }, 'label.yaml'],
    ] as const) {
      const answers = writeAnswers(scratch, { crypt: { user: user.name, path: path.join(user.home, 'c') }, method: 'loopback', loopback: { image: scratch.path('i.img'), size: '200M' }, persist: { via: 'systemd' }, filesystem: fs }, file);
      const r = runCli(bundle, ['init', '--answers', answers, '--yes']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/\.yaml:\d+:\d+: filesystem\.(mountOptions\[0\]|label): .*control characters/);
      expect(existsSync(scratch.path('i.img'))).toBe(false);
      expect(existsSync(scratch.path('etc/systemd/system'))).toBe(false);
    }
  });

  it('13: repair mounting an unmounted crypt never follows a link its owner put above the mount point', { timeout: 300_000 }, async () => {
    scratch = await suite.scratch();
    const alice = makeUser(scratch);
    const a = await cryptOf(alice);
    const loopOf = () => sh(['losetup', '-j', a.config.loopback!.image, '-O', 'NAME', '-n']).trim();
    const mountsOfImage = () => {
      const dev = loopOf();
      return dev ? sh(['findmnt', '-rn', '-o', 'TARGET', '--source', dev]).trim().split('\n').filter(Boolean) : [];
    };
    sh(['umount', a.root]);
    // A root-only directory alice would like the crypt mounted over.
    const target = scratch.path('root-only');
    await mkdir(path.join(target, 'lychd'), { recursive: true });
    await writeFile(path.join(target, 'lychd/secret'), 'root');
    const share = path.join(alice.home, '.local/share');
    const real = `${share}.real`;
    expect((await asUser(alice, ['sh', '-c', `mv ${share} ${real} && ln -s ${target} ${share}`])).code).toBe(0);

    // A link planted before: refused, nothing mounted anywhere.
    const r = await cliAs(null, bundle, ['--crypt', alice.name, 'repair', '--yes']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/symbolic link .* not followed/);
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(mountsOfImage()).toEqual([]);

    // A link swapped in and out while root mounts: the mount lands on the real directory or not at all.
    expect((await asUser(alice, ['sh', '-c', `rm ${share} && mv ${real} ${share}`])).code).toBe(0);
    // The swapper pauses (in the real state, and says so) while the test looks at and undoes each mount.
    const pause = scratch.path('pause');
    const paused = path.join(alice.home, 'paused'); // written by alice
    const flip = `
import os, time
s, r, t = ${JSON.stringify(share)}, ${JSON.stringify(real)}, ${JSON.stringify(target)}
pause, paused, stop = ${JSON.stringify(pause)}, ${JSON.stringify(paused)}, ${JSON.stringify(scratch.path('stop'))}
end, n = time.time() + 200, 0
while time.time() < end and not os.path.exists(stop):
    if os.path.exists(pause):
        open(paused, 'w').close(); time.sleep(0.01); continue
    os.rename(s, r); os.symlink(t, s); time.sleep(0.001); os.unlink(s); os.rename(r, s); time.sleep(0.001)
    n += 1
print(n)
`;
    const swapper = startAs(alice, flip);
    let flips = '';
    const codes: number[] = [];
    try {
      for (let i = 0; i < 8; i++) {
        await rm(pause, { force: true });
        await sleep(20);
        await rm(paused, { force: true });
        const run = await cliAs(null, bundle, ['--crypt', alice.name, 'repair', '--yes']);
        codes.push(run.code);
        expect(run.stderr).not.toMatch(NO_STACK);
        await writeFile(pause, '');
        for (let w = 0; !existsSync(paused); w++) {
          expect(w, `the swapper stopped: ${swapper.err()}`).toBeLessThan(3000);
          await sleep(10);
        }
        // Wherever the path pointed at that instant, the mount is on the directory root opened: the real one.
        const where = mountsOfImage();
        expect(where.filter((w) => w !== a.root)).toEqual([]);
        if (where.length) sh(['umount', a.root]);
      }
    } finally {
      await writeFile(scratch.path('stop'), '');
      flips = await swapper.done;
    }
    expect(swapper.err()).toBe('');
    expect(Number(flips)).toBeGreaterThan(0);
    expect(sh(['findmnt', '-rn', '-o', 'TARGET']).split('\n')).not.toContain(path.join(target, 'lychd'));
    expect(await readFile(path.join(target, 'lychd/secret'), 'utf8')).toBe('root');
    for (const c of codes) expect([0, 1, 3], `repair exited ${c}`).toContain(c);
  });

  it('12: every command by an unrelated user, or by a user on a system crypt: a clear message, exit 3, nothing changed', async () => {
    scratch = await suite.scratch();
    const alice = makeUser(scratch);
    const mallory = makeUser(scratch);
    const sys = await cryptOf(alice);
    expect((await cli(sys.root, ['snapshot', '--label', 'keep'])).code).toBe(0);
    const name = (await snapshots(sys)).find((n) => !n.endsWith('.json'))!;
    const commands = [['snapshot'], ['list'], ['rollback', name, '--yes'], ['delete', name, '--yes'], ['prune', '--keep', '0'], ['verify', name], ['doctor'], ['repair', '--yes']];
    const before = await snapshots(sys);
    for (const who of [alice, mallory]) {
      for (const args of commands) {
        const r = await cliAs(who, bundle, ['--crypt', sys.root, ...args]);
        expect(r.code, `${who.name} ${args.join(' ')}: ${r.stderr}`).toBe(3);
        expect(r.stderr).not.toMatch(NO_STACK);
        expect(r.stderr).toMatch(/needs root/);
        // sudo drops LYCHD_CRYPT_REGISTRY: the registry is an option of the command (issue 24).
        expect(r.stderr).toContain(`sudo lychd-crypt --registry ${process.env.LYCHD_CRYPT_REGISTRY} --crypt ${sys.root} ${args.join(' ')}`);
      }
    }
    expect(await snapshots(sys)).toEqual(before);
    // A rootless crypt is its owner's: anyone else is refused the same way.
    const bob = makeUser(scratch);
    const own = await cryptOf(bob, { rootless: true });
    for (const args of commands) {
      const r = await cliAs(mallory, bundle, ['--crypt', own.root, ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toMatch(new RegExp(`belongs to ${bob.name}`));
      expect(r.stderr).not.toMatch(NO_STACK);
    }
    // init as a user, on an image only root can read: a message, not a wipefs failure.
    const img = scratch.path('root-only.img');
    sh(['truncate', '-s', '200M', img]);
    sh(['mkfs.btrfs', '-q', img]);
    await chmod(img, 0o600);
    const answers = writeAnswers(scratch, { crypt: { user: mallory.name, path: path.join(mallory.home, 'c') }, method: 'loopback', loopback: { image: img } }, 'm.yaml');
    await chmod(answers, 0o644);
    const dry = await cliAs(mallory, bundle, ['init', '--answers', answers, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(3);
    expect(dry.stderr).toMatch(/needs root/);
    expect(dry.stderr).not.toMatch(NO_STACK);
    expect(await readFile(img).then((b) => b.length)).toBe(200 * 2 ** 20);
  });
});
