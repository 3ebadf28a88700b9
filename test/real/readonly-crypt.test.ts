// A full host forces a loopback crypt read-only: doctor says so (never "healthy"), commands fail with a
// typed message instead of a stack trace, and once host space is back `repair` unmounts, mounts again and
// starts the crashed database. The plain read-only mount (mount -o remount,ro) is found and healed too.
import { describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { skipReason } from '../helpers/env.js';
import { sh } from '../helpers/host.js';
import { stubRuntime as stubRuntimeOf } from '../helpers/fake-runtime.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';
import { cli, cryptWithServer } from '../helpers/snap.js';
import { VERSION } from '../../src/base/version.js';

const scratches = scratchSuite();
let scratch: Scratch | undefined;

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');
/** A stand-in runtime command of this version, so repair has nothing to install in this fixture. */
const stubRuntime = (binDir: string) => stubRuntimeOf(binDir, VERSION);

const check = (r: { json: any }, id: string) => r.json.checks.find((c: { id: string }) => c.id === id);

/** Fills the crypt until a write fails (the host under it is smaller than the image). */
function fillUntilFailure(dir: string): void {
  try {
    execFileSync('dd', ['if=/dev/urandom', `of=${path.join(dir, 'filler')}`, 'bs=1M', 'count=400', 'conv=fsync'], { stdio: 'ignore' });
  } catch {
    /* ENOSPC or EIO: expected */
  }
  try {
    execFileSync('sync', ['-f', dir], { stdio: 'ignore' });
  } catch {
    /* the commit fails once the host is full */
  }
}

describe.skipIf(skip)(`a read-only crypt ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('a full host forces the crypt read-only: doctor reports it, commands explain it, repair remounts and starts the database', async () => {
    scratch = await scratches.scratch();
    const host = scratch.path('host');
    await mkdir(host);
    sh(['mount', '-t', 'tmpfs', '-o', 'size=200M', 'tmpfs', host]);
    scratch.defer(() => void sh(['umount', '-l', host]));
    // A 512 MiB sparse image on a 200 MiB host: the host fills up first.
    const { fx, server } = await cryptWithServer(scratch, 15, { fixture: { sizeMiB: 512, image: path.join(host, 'crypt.img') } });
    await stubRuntime(fx.config.install.binDir);
    await server.query('create table keep as select g as id from generate_series(1, 1000) g');
    await server.query('checkpoint');

    fillUntilFailure(fx.paths.active);
    // PostgreSQL's next checkpoint cannot write either.
    await server.query('checkpoint').catch(() => {});

    const doctor = await cli(fx.root, ['--json', 'doctor']);
    expect(doctor.code, doctor.stdout.slice(0, 1500)).toBe(1);
    expect(doctor.json.healthy).toBe(false);
    const writable = check(doctor, 'mount.writable');
    expect(writable.status, writable.finding).toBe('problem');
    expect(writable.finding).toMatch(/forced the crypt read-only/);
    // The host is still full: repair would not help yet, so the fix says what to free first.
    expect(writable.fix.manual).toMatch(/free space on/);

    const snap = await cli(fx.root, ['--json', 'snapshot']);
    expect(snap.code).toBe(1);
    expect(snap.stderr).not.toMatch(/\n\s+at /);
    expect(snap.json.error.code).toBe('read-only');
    expect(snap.stderr).toMatch(/forced the crypt read-only/);
    expect(snap.stderr).toMatch(/PostgreSQL (is|runs|is down|is restarting)/);
    expect(snap.json.error.hint).toMatch(/repair/);

    // Host space back: repair remounts and brings the database back.
    sh(['mount', '-o', 'remount,size=900M', host]);
    const fixable = await cli(fx.root, ['--json', 'doctor']);
    expect(check(fixable, 'mount.writable').fix.repair).toMatch(/unmount the crypt and mount it again/);
    const repair = await cli(fx.root, ['--json', 'repair', '--yes']);
    expect(repair.stderr).not.toMatch(/\n\s+at /);
    expect(repair.json?.done, repair.stdout + repair.stderr).toBeDefined();
    expect(repair.json.done.map((d: { kind: string }) => d.kind), repair.stdout + repair.stderr).toContain('remount-crypt');
    const after = await cli(fx.root, ['--json', 'doctor']);
    expect(check(after, 'mount.writable').status).toBe('ok');
    expect(check(after, 'mount.errors').status).toBe('ok');
    expect((await server.query('select count(*)::int as n from keep'))[0]!.n).toBe(1000);
    await server.query('insert into keep values (-1)');
    await writeFile(path.join(fx.paths.active, 'probe'), 'writable again');
  });

  test('a crypt mounted read-only: doctor reports it, repair remounts it; a stopped database stays stopped', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15, { fixture: { sizeMiB: 512 } });
    await stubRuntime(fx.config.install.binDir);
    server.stop('fast');
    sh(['mount', '-o', 'remount,ro', fx.root]);
    const doctor = await cli(fx.root, ['--json', 'doctor']);
    expect(doctor.code).toBe(1);
    expect(check(doctor, 'mount.writable').finding).toMatch(/mounted read-only/);
    const snap = await cli(fx.root, ['--json', 'snapshot']);
    expect(snap.code).toBe(1);
    expect(snap.json.error.code).toBe('read-only');
    expect(snap.stderr).not.toMatch(/\n\s+at /);
    expect(snap.stderr).toMatch(/PostgreSQL is stopped/);

    const repair = await cli(fx.root, ['--json', 'repair', '--yes']);
    expect(repair.json?.done, repair.stdout + repair.stderr).toBeDefined();
    expect(repair.json.done.find((d: { kind: string }) => d.kind === 'remount-crypt')?.result, repair.stdout + repair.stderr).toMatch(/remounted .* read-write/);
    expect(check(await cli(fx.root, ['--json', 'doctor']), 'mount.writable').status).toBe('ok');
    expect(server.isRunning()).toBe(false);
  });
});
