// Names and pins as an administrator meets them (issue 24): `delete` refuses a pinned snapshot (exit 3,
// naming the pin) unless --force; the slug `list` shows resolves after a relabel; `--crypt` takes a
// registered name with did-you-mean (a path only when it holds a /); `db restart` restarts the server.
import { describe, expect, test } from 'vitest';
import { readdir } from 'node:fs/promises';
import { skipReason } from '../helpers/env.js';
import { cliSuite } from '../helpers/suite.js';
import { makeCryptFixture } from '../helpers/crypt-fixture.js';
import { cli, cryptWithServer } from '../helpers/snap.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');

describe.skipIf(skip)(`pins, names and db restart ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('delete refuses a pinned snapshot without --force, names it, deletes nothing; --force deletes', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    const take = async (label: string) => (await cli(fx.root, ['--json', 'snapshot', '--label', label])).json.snapshot.name as string;
    const kept = await take('keep-me');
    const other = await take('other');
    expect((await cli(fx.root, ['pin', kept])).code).toBe(0);

    const refused = await cli(fx.root, ['delete', kept, other, '--yes']);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toContain(`${kept} is pinned`);
    expect(refused.stderr).toContain(`--force --yes`);
    expect((await readdir(fx.paths.snapshots)).sort()).toEqual([kept, `${kept}.json`, other, `${other}.json`].sort());
    // The dry run says the same.
    const dry = await cli(fx.root, ['--json', 'delete', kept, '--dry-run']);
    expect(dry.json).toMatchObject({ wouldDelete: [], pinned: [kept] });

    const forced = await cli(fx.root, ['--json', 'delete', kept, '--force', '--yes']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.json.deleted).toEqual([kept]);
  });

  test('the slug list shows resolves after a relabel; --crypt NAME with did-you-mean, a path only with a /', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    const name = (await cli(fx.root, ['--json', 'snapshot', '--label', 'schema-v4'])).json.snapshot.name as string;
    expect((await cli(fx.root, ['label', name, 'before the v4 migration'])).code).toBe(0);
    const pinned = await cli(fx.root, ['--json', 'pin', 'schema-v4']);
    expect(pinned.code, pinned.stderr).toBe(0);
    expect((await cli(fx.root, ['--json', 'list'])).json.snapshots[0]).toMatchObject({ name, pinned: true, label: 'before the v4 migration' });

    // The fixture's crypt is registered as "fx". cli() passes --crypt <path>; these name it otherwise.
    const byName = await cli('fx', ['--json', 'list']);
    expect(byName.code, byName.stderr).toBe(0);
    const typo = await cli('fz', ['list']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/no crypt named "fz"; did you mean "fx"\? \(registered: fx \(/);
    expect(typo.stderr).not.toMatch(/no registered crypt at .*\/fz/);
  });

  test('db restart: the server stops and starts again, and takes connections', async () => {
    const scratch = await suite.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    const before = Number((await server.query('select pg_backend_pid() as p, (select pid from pg_stat_activity where backend_type = \'checkpointer\') as c'))[0]!.c);
    const r = await cli(fx.root, ['--json', 'db', 'restart']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ ok: true, state: 'running', wasRunning: true, started: true });
    const after = Number((await server.query("select pid as c from pg_stat_activity where backend_type = 'checkpointer'"))[0]!.c);
    expect(after).not.toBe(before);
  }, 120_000);
});
