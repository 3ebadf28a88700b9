// `run` killed (SIGKILL) at every fault point of its before snapshot, COMMAND and health check, and inside a
// pre-rollback hook, then healed by the next mutating command (a plain `snapshot`, or `repair`): the crypt is
// at the before state in every case, the change's files and rows gone, the failed state kept as a snapshot
// where COMMAND had run. The automatic rollback's own fault points are in run-crash-rollback.test.ts.
import { describe, expect, test } from 'vitest';
import { readFile, rm } from 'node:fs/promises';
import { skipReason } from '../helpers/env.js';
import { cliSuite } from '../helpers/suite.js';
import { guardedCrypt } from '../helpers/guarded.js';
import { reconfigure } from '../helpers/crypt-fixture.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');

/** Fault points in the order a run passes them, and whether COMMAND had run (its result is then kept). */
const POINTS: { point: string; ran: boolean; said: RegExp }[] = [
  { point: 'snapshot:after-backup-start', ran: false, said: /interrupted snapshot .* had not been created|deleted the incomplete snapshot/ },
  { point: 'snapshot:after-snap', ran: false, said: /deleted the incomplete snapshot/ },
  { point: 'snapshot:before-metadata', ran: false, said: /deleted the incomplete snapshot/ },
  { point: 'snapshot:after-metadata', ran: false, said: /snapshot \S+ had completed/ },
  { point: 'run:journal', ran: false, said: /was interrupted \(phase started\): rolled back to .*its outcome was not known, so it was treated as a failure/ },
  { point: 'run:spawned', ran: true, said: /was interrupted \(phase started\): rolled back to .*the interrupted state is snapshot/ },
  { point: 'run:checking', ran: true, said: /was interrupted \(phase checking\): rolled back to .*treated as a failure/ },
  { point: 'run:failed', ran: true, said: /had failed \(--check false failed: .*\) and was interrupted before its rollback: rolled back to .*the failed state is snapshot/ },
];

describe.skipIf(skip)(`run crash safety ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('SIGKILL at every point of the snapshot, COMMAND and checks: the before state, the change gone, the failed state kept', async () => {
    const g = await guardedCrypt(suite);
    for (const [i, { point, ran, said }] of POINTS.entries()) {
      const tag = `C${i}`;
      await g.crash(g.change(tag), point);
      const healer = i % 2 ? ['repair', '--yes'] : ['snapshot', '--label', 'heal'];
      const healed = await g.heal(healer, point);
      expect(healed.stderr + healed.stdout, point).toMatch(said);
      await g.expectBefore(point, tag, ran);
    }
  }, 600_000);

  test('killed inside the pre-rollback hook of the automatic rollback, then a failing hook: the rollback stays pending until it is done', async () => {
    const g = await guardedCrypt(suite);
    const once = g.scratch.path('killed-once');
    // The hook kills lychd-crypt (its parent) the first time, as a crash in the middle of the hooks would.
    const killer = ['sh', '-c', `test -e ${once} || { touch ${once}; kill -9 $PPID; sleep 5; }`];
    await reconfigure(g.fx, { ...g.fx.config, hooks: { preSnapshot: [], postSnapshot: [], preRollback: [killer], postRollback: [], timeout: 60 } });
    const crashed = await g.cli(g.change('H1'));
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    expect(JSON.parse(await readFile(g.fx.paths.journal, 'utf8'))).toMatchObject({ op: 'run', phase: 'failed' });
    const healed = await g.heal(['snapshot'], 'hook kill');
    expect(healed.stderr).toMatch(/had failed .* and was interrupted before its rollback: rolled back to/);
    await g.expectBefore('hook kill', 'H1', true);

    // A pre-rollback hook that fails vetoes the rollback, but never drops it: the failed change is reported
    // live and pending, every command finishes it first once the hook passes.
    const flag = g.scratch.path('hook-fails');
    await reconfigure(g.fx, { ...g.fx.config, hooks: { preSnapshot: [], postSnapshot: [], preRollback: [['sh', '-c', `! test -e ${flag}`]], postRollback: [], timeout: 60 } });
    await import('node:fs/promises').then((fs) => fs.writeFile(flag, ''));
    const vetoed = await g.cli(g.change('H2'));
    expect(vetoed.code, vetoed.stderr).toBe(1);
    expect(vetoed.stderr).toMatch(/the change failed \(--check false failed.*\) and its rollback to \S+ did not complete: the preRollback hook .* failed/);
    expect(vetoed.stderr).toMatch(/stays pending/);
    expect(await g.rows()).toEqual(['A', 'H2']);
    const still = await g.cli(['snapshot']);
    expect(still.code, still.stderr).toBe(1);
    expect(await g.rows()).toEqual(['A', 'H2']);
    await rm(flag);
    await g.heal(['snapshot'], 'hook fixed');
    await g.expectBefore('hook fixed', 'H2', true);
  }, 300_000);
});
