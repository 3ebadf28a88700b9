// status tells the same truth as doctor (issue 29, finding 4; issue 24, item 10): a read-only and a forced
// read-only crypt, an operation in progress (the lock held) and an interrupted one, leftovers, an unmounted
// crypt — each with its exit code, its --check state and its fix; the timers shown are the ones installed;
// mount.errors says that a loop device's failed writes move no counter; and a monitoring user who is not the
// crypt's owner gets the facts it may read instead of UNKNOWN.
import { describe, expect, test } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { skipReason } from '../helpers/env.js';
import { makeUser, sh } from '../helpers/host.js';
import { cliSuite } from '../helpers/suite.js';
import { makeCryptFixture, reconfigure } from '../helpers/crypt-fixture.js';
import { cli } from '../helpers/snap.js';
import { cliAs } from '../helpers/as-user.js';

const skip = skipReason('root', 'btrfs', 'loop');
const check = (r: { json: any }, id: string) => r.json.checks.find((c: { id: string }) => c.id === id);

describe.skipIf(skip)(`status tells the truth ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('read-only, forced read-only, not mounted: exit codes, --check states and the fix; mount.errors says what it cannot see', async () => {
    const scratch = await suite.scratch();
    const host = scratch.path('host');
    mkdirSync(host);
    sh(['mount', '-t', 'tmpfs', '-o', 'size=200M', 'tmpfs', host]);
    scratch.defer(() => void sh(['umount', '-l', host]));
    // A 512 MiB sparse image on a 200 MiB host: the host fills up first.
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 512, image: path.join(host, 'crypt.img') });
    expect((await cli(fx.root, ['snapshot'])).code).toBe(0);
    const healthy = await cli(fx.root, ['status']);
    expect(healthy.code, healthy.stdout).toBe(0);
    expect(healthy.stdout).not.toMatch(/problems:/);

    // Mounted read-only.
    sh(['mount', '-o', 'remount,ro', fx.root]);
    const ro = await cli(fx.root, ['status']);
    expect(ro.code).toBe(1);
    expect(ro.stdout).toMatch(/^writable +NO — mounted read-only$/m);
    expect(ro.stdout).toMatch(/problems:\n {2}CRITICAL: the crypt is mounted read-only\n {4}fix: `[^`]*lychd-crypt[^`]* repair` remounts it read-write/);
    const roCheck = await cli(fx.root, ['status', '--check']);
    expect(roCheck.code).toBe(2);
    expect(roCheck.stdout).toMatch(/^LYCHD-CRYPT CRITICAL - the crypt is mounted read-only/);
    expect((await cli(fx.root, ['--json', 'status'])).json).toMatchObject({ writable: 'ro', problems: [{ state: 2, what: 'the crypt is mounted read-only' }] });
    sh(['mount', '-o', 'remount,rw', fx.root]);

    // Forced read-only by Btrfs: the host under the image is full.
    try {
      execFileSync('dd', ['if=/dev/urandom', `of=${path.join(fx.paths.active, 'filler')}`, 'bs=1M', 'count=400', 'conv=fsync'], { stdio: 'ignore' });
    } catch {
      /* ENOSPC or EIO: expected */
    }
    try {
      execFileSync('sync', ['-f', fx.paths.active], { stdio: 'ignore' });
    } catch {
      /* the commit fails once the host is full */
    }
    const forced = await cli(fx.root, ['status', '--check']);
    expect(forced.code, forced.stdout).toBe(2);
    expect(forced.stdout).toMatch(/^LYCHD-CRYPT CRITICAL - Btrfs forced the crypt read-only after a write error/);
    const forcedScreen = await cli(fx.root, ['status']);
    expect(forcedScreen.code).toBe(1);
    expect(forcedScreen.stdout).toMatch(/^writable +NO — Btrfs forced it read-only after a write error$/m);
    // The device counters moved not at all: doctor says it cannot see the error there, and where it is.
    const doctor = await cli(fx.root, ['--json', 'doctor']);
    expect(check(doctor, 'mount.writable').status).toBe('problem');
    const errors = check(doctor, 'mount.errors');
    expect(errors.status, errors.finding).toBe('cannot-check');
    expect(errors.finding).toMatch(/device counters do not record .*ENOSPC.*dmesg/);
    expect(sh(['btrfs', 'device', 'stats', fx.root])).not.toMatch(/errs\s+[1-9]/);

    // Not mounted: exit 1 with the fix (it was 0 before), CRITICAL for --check.
    sh(['umount', fx.root]);
    const down = await cli(fx.root, ['status']);
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/^mounted +NO$/m);
    expect(down.stdout).toMatch(/CRITICAL: \S+ is not mounted\n {4}fix: mount it: `[^`]*lychd-crypt[^`]* repair` \(as root\)/);
    expect((await cli(fx.root, ['status', '--check'])).code).toBe(2);
  }, 120_000);

  test('an operation in progress (lock held), then interrupted, then healed; leftovers; the timers installed', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    expect((await cli(fx.root, ['snapshot'])).code).toBe(0);

    const pidFile = scratch.path('command.pid');
    const holder = spawn('node', [suite.bundle, '--crypt', fx.root, 'run', '--', 'sh', '-c', `echo $$ > ${pidFile}; exec sleep 600`], { cwd: '/', stdio: 'ignore' });
    scratch.defer(() => void holder.kill('SIGKILL'));
    let command = 0;
    for (let i = 0; i < 300 && !command; i++) {
      command = Number(await readFile(pidFile, 'utf8').catch(() => '0'));
      await sleep(100);
    }
    scratch.defer(() => {
      try {
        process.kill(command, 'SIGKILL');
      } catch {
        /* gone */
      }
    });
    const busy = await cli(fx.root, ['status']);
    expect(busy.code, busy.stdout).toBe(0); // in progress is a fact, not a problem (doctor says the same)
    expect(busy.stdout).toMatch(new RegExp(`^operation +run \\(phase (started|running)\\) in progress, pid ${holder.pid}$`, 'm'));
    const busyCheck = await cli(fx.root, ['status', '--check']);
    expect(busyCheck.code).toBe(0);
    expect(busyCheck.stdout).toMatch(new RegExp(`a run is in progress \\(pid ${holder.pid}\\)`));
    expect(check(await cli(fx.root, ['--json', 'doctor']), 'journal.pending').finding).toMatch(/is in progress/);

    // lychd-crypt dies, COMMAND ends: interrupted, pending — WARNING and exit 1 until the next command heals it.
    holder.kill('SIGKILL');
    process.kill(command, 'SIGKILL');
    await new Promise((r) => holder.once('close', r));
    await sleep(200);
    const pending = await cli(fx.root, ['status', '--check']);
    expect(pending.code, pending.stdout).toBe(1);
    expect(pending.stdout).toMatch(/^LYCHD-CRYPT WARNING - an interrupted run \(phase running\) is pending/);
    const pendingScreen = await cli(fx.root, ['status']);
    expect(pendingScreen.code).toBe(1);
    expect(pendingScreen.stdout).toMatch(/fix: the next lychd-crypt command that changes the crypt finishes or undoes it, or run `[^`]*lychd-crypt[^`]* repair`/);
    expect((await cli(fx.root, ['snapshot'])).code).toBe(0);
    expect((await cli(fx.root, ['status', '--check'])).code).toBe(0);

    // Leftovers doctor reports: status reports them too (before, --check said OK).
    await writeFile(path.join(fx.paths.snapshots, '20200101T000000Z-gone.json'), '{}');
    const left = await cli(fx.root, ['status', '--check']);
    expect(left.code).toBe(1);
    expect(left.stdout).toMatch(/leftovers in snapshots\/: 1 metadata file\(s\) without their snapshot/);
    expect((await cli(fx.root, ['--json', 'doctor'])).code).toBe(1);

    // A schedule configured but no timer installed (init installs none where systemd is not running).
    await reconfigure(fx, { ...fx.config, schedule: { calendar: 'hourly', verify: false } });
    const timers = await cli(fx.root, ['status']);
    expect(timers.stdout).toMatch(/^timer +not installed \(hourly is configured, but init installs timers only where systemd runs/m);
    expect((await cli(fx.root, ['--json', 'status'])).json.timer).toMatchObject({ installed: false, nextRun: null });
  }, 120_000);

  test('a monitoring user who is not the owner: the facts it may read, never UNKNOWN for that', async () => {
    const scratch = await suite.scratch();
    // The crypt under a directory only root may enter (as in an owner's 0700 home).
    const hidden = scratch.path('private');
    mkdirSync(hidden);
    chmodSync(hidden, 0o700);
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300, root: path.join(hidden, 'crypt') });
    expect((await cli(fx.root, ['snapshot'])).code).toBe(0);
    const nagios = makeUser(scratch);
    const asNagios = (...args: string[]) => cliAs(nagios, suite.bundle, ['--crypt', fx.config.crypt.name, ...args]);

    const ok = await asNagios('status', '--check');
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^LYCHD-CRYPT OK - .*[\d.]+[MG] free, not visible to this user: snapshots.* \| free=\d+B;/);
    const screen = await asNagios('status');
    expect(screen.code, screen.stderr).toBe(0);
    expect(screen.stdout).toMatch(/^mounted +yes$/m);
    expect(screen.stdout).toMatch(/^space +[\d.]+[MG] free of [\d.]+[MG] \(\d+%\), estimated from sysfs$/m);
    expect(screen.stdout).toMatch(/^not visible +snapshots/m);

    // What it can see, it judges: the crypt unmounted is CRITICAL for it too.
    sh(['umount', fx.root]);
    const down = await asNagios('status', '--check');
    expect(down.code).toBe(2);
    expect(down.stdout).toMatch(/^LYCHD-CRYPT CRITICAL - \S+ is not mounted/);
  }, 120_000);
});
