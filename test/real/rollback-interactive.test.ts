// rollback at a terminal: the confirmation shows what is replaced and defaults to No (exit 3, nothing
// changed); yes rolls back.
import { describe, expect, test } from 'vitest';
import { readdir } from 'node:fs/promises';
import { skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite, scratchSuite } from '../helpers/suite.js';
import { cliChild, cryptWithServer } from '../helpers/snap.js';
import { openTerminal } from '../helpers/tmux.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15', 'tmux');
const scratches = scratchSuite();
let scratch: Scratch | undefined;

describe.skipIf(skip)(`rollback at a terminal ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('default No changes nothing (exit 3); y + Enter rolls back', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    await server.query('create table t (v text)');
    const snap = await cliChild(suite.bundle, fx.root, ['--json', 'snapshot']);
    expect(snap.code, snap.stderr).toBe(0);
    const name: string = snap.json.snapshot.name;
    await server.query("insert into t values ('B')");
    const snapsBefore = (await readdir(fx.paths.snapshots)).sort();

    const no = openTerminal(scratch, ['node', suite.bundle, '--crypt', fx.root, 'rollback', name]);
    const screen = await no.waitFor(/Roll back to/);
    expect(screen).toMatch(new RegExp(`snapshot ${name}`));
    expect(screen).toMatch(/pre-rollback/);
    no.keys('Enter');
    expect(await no.exitCode()).toBe(3);
    expect((await readdir(fx.paths.snapshots)).sort()).toEqual(snapsBefore);
    expect((await server.query('select count(*)::int as n from t'))[0]!.n).toBe(1);

    const yes = openTerminal(scratch, ['node', suite.bundle, '--crypt', fx.root, 'rollback', name]);
    await yes.waitFor(/Roll back to/);
    yes.keys('y');
    yes.keys('Enter');
    expect(await yes.exitCode(120_000)).toBe(0);
    expect((await server.query('select count(*)::int as n from t'))[0]!.n).toBe(0);
  }, 180_000);
});
