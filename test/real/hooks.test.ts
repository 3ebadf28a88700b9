// hooks: around snapshot and rollback (and so around run) on a real crypt: order, environment, a failing
// pre-hook changing nothing (post-hooks still run), the time limit.
import { describe, expect, test } from 'vitest';
import { readdir, readFile, rm } from 'node:fs/promises';
import { makeCryptFixture, reconfigure } from '../helpers/crypt-fixture.js';
import { skipReason } from '../helpers/env.js';
import { cliSuite } from '../helpers/suite.js';
import { cliChild } from '../helpers/snap.js';

const skip = skipReason('root', 'btrfs', 'loop');

describe.skipIf(skip)(`hooks ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('order, environment, failing and slow pre-hooks, around snapshot, rollback and run', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false });
    const log = scratch.path('hooks.log');
    const note = (tag: string) => ['sh', '-c', `echo "${tag} $LYCHD_PHASE $LYCHD_SNAPSHOT \${LYCHD_RESULT:--} \${LYCHD_PRE_ROLLBACK:--} $LYCHD_CRYPT_PATH" >> ${log}`];
    const lines = async () => {
      const text = await readFile(log, 'utf8').catch(() => '');
      await rm(log, { force: true });
      return text.trim().split('\n').filter(Boolean);
    };
    const hooks = { preSnapshot: [note('a'), note('b')], postSnapshot: [note('c')], preRollback: [note('d')], postRollback: [note('e')], timeout: 60 };
    await reconfigure(fx, { ...fx.config, hooks });
    const run = (args: string[]) => cliChild(suite.bundle, fx.root, args);

    const snap = await run(['--json', 'snapshot', '--label', 'hooked']);
    expect(snap.code, snap.stderr).toBe(0);
    const name: string = snap.json.snapshot.name;
    expect(await lines()).toEqual([`a preSnapshot ${name} - - ${fx.root}`, `b preSnapshot ${name} - - ${fx.root}`, `c postSnapshot ${name} ok - ${fx.root}`]);

    const rb = await run(['--json', 'rollback', name, '--yes']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(await lines()).toEqual([`d preRollback ${name} - ${rb.json.preRollback} ${fx.root}`, `e postRollback ${name} ok ${rb.json.preRollback} ${fx.root}`]);

    // A failing pre-hook: nothing changed, the later pre-hooks not run, the post-hooks run (result failed).
    const before = (await readdir(fx.paths.snapshots)).sort();
    await reconfigure(fx, { ...fx.config, hooks: { ...hooks, preSnapshot: [note('a'), ['false'], note('b')] } });
    const refused = await run(['snapshot']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/the preSnapshot hook `false` failed: it exited with status 1; nothing was changed/);
    expect((await readdir(fx.paths.snapshots)).sort()).toEqual(before);
    expect((await lines()).map((l) => l.split(' ').slice(0, 2).concat(l.split(' ')[3]!).join(' '))).toEqual(['a preSnapshot -', 'c postSnapshot failed']);

    // The time limit: a hook that hangs is stopped and fails.
    await reconfigure(fx, { ...fx.config, hooks: { ...hooks, preSnapshot: [['sleep', '600']], timeout: 1 } });
    const slow = await run(['snapshot']);
    expect(slow.code).toBe(1);
    expect(slow.stderr).toMatch(/preSnapshot hook `sleep 600` failed: it did not finish within 1s and was stopped/);
    expect((await readdir(fx.paths.snapshots)).sort()).toEqual(before);
    await lines();

    // Around run: the before snapshot's pair, and on failure the rollback's pair.
    await reconfigure(fx, { ...fx.config, hooks });
    const failed = await run(['--json', 'run', '--', 'false']);
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.json.rolledBack).toBe(true);
    expect((await lines()).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['a preSnapshot', 'b preSnapshot', 'c postSnapshot', 'd preRollback', 'e postRollback']);
  }, 180_000);
});
