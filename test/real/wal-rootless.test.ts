// An outside WAL on a rootless crypt (PostgreSQL run by the owner, not a container): walDir in the owner's home
// and theirs; the owner — no root anywhere — snapshots, rolls back and undoes; the generations are the owner's;
// doctor finds it healthy.
import { describe, expect, test } from 'vitest';
import { chmod, lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { cliAs } from '../helpers/as-user.js';
import { skipReason } from '../helpers/env.js';
import { makeUser } from '../helpers/host.js';
import { buildCli } from '../helpers/init.js';
import { cliSuite } from '../helpers/suite.js';
import { activeUuid, walCrypt } from '../helpers/wal.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');

describe.skipIf(skip)(`outside WAL on a rootless crypt ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('the owner snapshots, rolls back and undoes; generations are the owner\'s; one linked', async () => {
    const scratch = await suite.scratch();
    const owner = makeUser(scratch);
    const c = await walCrypt(suite, suite.bundle, { owner });
    const bundle = buildCli(scratch);
    await chmod(path.dirname(bundle), 0o755);
    const run = (args: string[]) => cliAs(owner, bundle, ['--crypt', c.fx.root, ...args]);
    const rows = async () => (await c.server.query<{ v: string }>('select v from m order by v')).map((r) => r.v);
    await c.server.query('create table m (v text)');
    await c.server.query("insert into m values ('a')");
    const snap = await run(['--json', 'snapshot']);
    expect(snap.code, snap.stderr).toBe(0);
    expect(snap.json.snapshot.mode).toBe('bracket');
    await c.server.query("insert into m values ('b')");
    const rb = await run(['--json', 'rollback', snap.json.snapshot.name, '--yes']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(await rows()).toEqual(['a']);
    const gens = await readdir(c.walDir);
    expect(gens).toEqual([`gen-${activeUuid(c.fx.paths.active)}`]);
    expect((await lstat(path.join(c.walDir, gens[0]!))).uid).toBe(owner.uid);
    const undo = await run(['--json', 'rollback', rb.json.preRollback, '--yes']);
    expect(undo.code, undo.stderr).toBe(0);
    expect(await rows()).toEqual(['a', 'b']);
    const doctor = await run(['--json', 'doctor']);
    const wal = doctor.json.checks.filter((x: { id: string }) => x.id === 'pgdata.wal' || x.id === 'wal.dir');
    expect(wal.map((x: { status: string }) => x.status)).toEqual(['ok', 'ok']);
  }, 180_000);
});
