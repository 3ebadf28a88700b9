// doctor and repair with an outside WAL (postgres.walDir, docs/wal.md): healthy as made; a stray generation
// found and removed by repair (by its gen- name only); a pg_wal link to elsewhere, a missing generation and a
// walDir writable by others are found (and the Ritual refuses the wrong link); the generation's mode is
// repaired; nothing foreign is touched.
import { describe, expect, test } from 'vitest';
import { chmod, lchown, lstat, mkdir, readdir, rename, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { skipReason } from '../helpers/env.js';
import { cliSuite } from '../helpers/suite.js';
import { walCrypt } from '../helpers/wal.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');

describe.skipIf(skip)(`doctor with an outside WAL ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('healthy; stray generation repaired; broken link, lost generation, group/other-writable walDir found', async () => {
    const { fx, server, run, walDir, gen } = await walCrypt(suite, suite.bundle);
    const finding = (d: { json: { checks: { id: string; status: string; finding: string }[] } }, id: string) => d.json.checks.find((c) => c.id === id)!;
    // The fixture is built without init: repair completes what init would have made (mount record, runtime).
    expect((await run(['--json', 'repair', '--yes'])).code).toBe(0);
    const healthy = await run(['--json', 'doctor']);
    expect(healthy.code, healthy.stdout).toBe(0);
    expect(finding(healthy, 'pgdata.wal')).toMatchObject({ status: 'ok' });
    expect(finding(healthy, 'wal.dir')).toMatchObject({ status: 'ok' });
    // The wal_init_zero/wal_recycle advice is for WAL on Btrfs: not given for an outside WAL.
    expect(finding(healthy, 'pgdata.settings')).toMatchObject({ status: 'ok' });

    // A generation no state links to (a rollback interrupted by hand-cleaning, say): repair removes it; a foreign file stays.
    const stray = path.join(walDir, 'gen-0d6e1d6e-7a3c-4f55-9a52-3c7e8f1a2b3c');
    await mkdir(stray);
    const d1 = await run(['--json', 'doctor']);
    expect(d1.code).toBe(1);
    expect(finding(d1, 'wal.dir').finding).toMatch(/belong to no state: gen-0d6e1d6e/);
    const r1 = await run(['--json', 'repair', '--yes']);
    expect(r1.code, r1.stderr + r1.stdout).toBe(0);
    expect(await readdir(walDir)).toEqual([path.basename(gen)]);

    // pg_wal pointing elsewhere: doctor says so, the Ritual refuses (nothing taken).
    server.stop();
    const wal = path.join(fx.pgdata, 'pg_wal');
    await unlink(wal);
    await symlink('/tmp', wal);
    const d2 = await run(['--json', 'doctor']);
    expect(finding(d2, 'pgdata.wal')).toMatchObject({ status: 'problem' });
    expect(finding(d2, 'pgdata.wal').finding).toMatch(/pg_wal links to \/tmp, not to active\/'s own WAL generation/);
    const snap = await run(['snapshot']);
    expect(snap.code).not.toBe(0);
    expect(snap.stderr).toMatch(/pg_wal links to \/tmp/);
    expect((await readdir(fx.paths.snapshots)).length).toBe(0);
    await unlink(wal);
    await symlink(gen, wal);
    await lchown(wal, (await lstat(gen)).uid, (await lstat(gen)).gid);

    // The generation gone: the live WAL is lost; doctor says what to do (never pg_resetwal).
    await rename(gen, `${gen}.away`);
    const d3 = await run(['--json', 'doctor']);
    expect(finding(d3, 'pgdata.wal').finding).toMatch(/missing: the live database has lost its WAL/);
    await rename(`${gen}.away`, gen);

    // The generation's owner and mode: repair gives it back to the server's user, 0700.
    await chmod(gen, 0o755);
    const d5 = await run(['--json', 'doctor']);
    expect(finding(d5, 'pgdata.wal').finding).toMatch(/mode 755, not 700/);
    expect((await run(['--json', 'repair', '--yes'])).code).toBe(0);
    expect(((await lstat(gen)).mode & 0o777).toString(8)).toBe('700');

    // walDir writable by others.
    await chmod(walDir, 0o777);
    const d4 = await run(['--json', 'doctor']);
    expect(finding(d4, 'wal.dir').finding).toMatch(/writable by others/);
    await chmod(walDir, 0o755);
    server.start();
    const again = await run(['--json', 'doctor']);
    expect(again.code, again.stdout).toBe(0);
  }, 120_000);
});
