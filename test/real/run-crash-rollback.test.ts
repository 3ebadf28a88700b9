// `run` killed (SIGKILL) at every fault point of its automatic rollback after a failed change, then healed
// by the next mutating command: the crypt ends at the before state, never at the failed one — a crash before
// the swap (journal, stop, stage, clean, prepare) used to be *undone* by recovery, which left the failed
// change live (issue 29, finding 1). Then the recovery itself killed in the middle, and healed again.
import { describe, expect, test } from 'vitest';
import { readFile } from 'node:fs/promises';
import { skipReason } from '../helpers/env.js';
import { cliSuite } from '../helpers/suite.js';
import { guardedCrypt } from '../helpers/guarded.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');

const BEFORE_SWAP = ['rollback:journal', 'rollback:stop', 'rollback:stage', 'rollback:clean', 'rollback:prepare'];
const AFTER_SWAP = ['rollback:swap', 'rollback:swapped', 'rollback:keep-moved', 'rollback:keep-ro', 'rollback:keep', 'rollback:start', 'rollback:done'];

describe.skipIf(skip)(`run: crash inside the automatic rollback ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('SIGKILL at every point of the rollback: always the before state, the failed state kept once', async () => {
    const g = await guardedCrypt(suite);
    for (const [i, point] of [...BEFORE_SWAP, ...AFTER_SWAP].entries()) {
      const tag = `R${i}`;
      await g.crash(g.change(tag), point);
      const pending = JSON.parse(await readFile(g.fx.paths.journal, 'utf8').catch(() => 'null'));
      if (point !== 'rollback:done') expect(pending, point).toMatchObject({ op: 'run-rollback', run: { outcome: 'failed', snapshot: expect.any(String) } });
      const healed = await g.heal(i % 2 ? ['repair', '--yes'] : ['snapshot', '--label', 'heal'], point);
      const said = healed.stderr + healed.stdout;
      if (BEFORE_SWAP.includes(point)) expect(said, point).toMatch(/the rollback of the failed guarded run of .* was interrupted before its swap and was started again: rolled back to/);
      else if (point !== 'rollback:done') expect(said, point).toMatch(/finished the rollback of the failed guarded run of .*: active\/ is the state before the change/);
      await g.expectBefore(point, tag, true);
    }
  }, 900_000);

  test('the recovery of a pending rollback killed at its own steps: the next command still ends at the before state', async () => {
    const g = await guardedCrypt(suite);
    for (const [i, [first, second]] of [
      ['rollback:stage', 'rollback:stage'],
      ['rollback:prepare', 'rollback:keep-moved'],
      ['rollback:swapped', 'rollback-recover:finished'],
    ].entries()) {
      const tag = `N${i}`;
      await g.crash(g.change(tag), first!);
      await g.crash(['snapshot'], second!); // the healing command dies too
      await g.heal(['snapshot'], `${first} then ${second}`);
      await g.expectBefore(`${first} then ${second}`, tag, true);
    }
  }, 600_000);
});
