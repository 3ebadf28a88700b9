// `run`, the guarded change, on a real crypt with a real PostgreSQL 15 through the bundled runtime: success
// (the before snapshot stays), COMMAND failing, a check failing and a time limit — each rolled back with
// the marker file and the marker row back and the failed state kept — then a nested run (exit 4) and a
// SIGKILL of lychd-crypt while COMMAND runs, rolled back by the next command.
import { describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { skipReason } from '../helpers/env.js';
import { cliSuite } from '../helpers/suite.js';
import { markedCrypt } from '../helpers/guarded.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');

describe.skipIf(skip)(`run ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  async function setup() {
    const { scratch, fx, server, marker, psql, cli: run, rows } = await markedCrypt(suite);
    const bundle = suite.bundle;
    /** A change as a shell script (the user's COMMAND may be anything): the marker file, then a row. */
    const change = (v: string, tail = '') => ['sh', '-c', `echo ${v} > ${marker} && ${psql} -c "insert into t values ('${v}')"${tail}`];
    return { scratch, fx, server, marker, change, rows, run, psql, bundle };
  }

  test('success keeps the change and the before snapshot; a failing COMMAND, check or time limit is rolled back', async () => {
    const { scratch, fx, server, marker, change, rows, run } = await setup();

    const ok = await run(['--json', 'run', '--label', 'add B', '--check', `test -f ${marker}`, '--check-sql', "select count(*) = 2 from t", '--', ...change('B', ' && echo said-B')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain('said-B'); // with --json, COMMAND's stdout goes to stderr
    expect(ok.json).toMatchObject({ ok: true, failure: null, rolledBack: false, exitCode: 0 });
    expect(ok.json.snapshot).toMatch(/-add-b$/);
    expect(ok.json.undo).toBe(`lychd-crypt rollback ${ok.json.snapshot}`);
    expect(await rows()).toEqual(['A', 'B']);
    expect(await readFile(marker, 'utf8')).toBe('B\n');
    const list = await run(['--json', 'list']);
    expect(list.json.snapshots.map((s: { name: string }) => s.name)).toContain(ok.json.snapshot);
    await expect(readFile(fx.paths.journal)).rejects.toThrow();

    // COMMAND fails: its own exit status, everything back, the failed state kept.
    const failed = await run(['--json', 'run', '--', ...change('C', ' && exit 7')]);
    expect(failed.code, failed.stderr).toBe(7);
    expect(failed.json).toMatchObject({ ok: false, rolledBack: true, exitCode: 7, failure: { kind: 'command', exitCode: 7 } });
    expect(await rows()).toEqual(['A', 'B']);
    expect(await readFile(marker, 'utf8')).toBe('B\n');
    const pre: string = failed.json.preRollback;
    expect(pre).toMatch(/-pre-rollback$/);
    expect(failed.json.undo).toBe(`lychd-crypt rollback ${pre}`);
    expect(await readFile(path.join(fx.paths.snapshots, pre, 'app', 'marker.txt'), 'utf8')).toBe('C\n');
    expect(server.isRunning()).toBe(true);
    expect((await server.query('select pg_is_in_recovery() as r'))[0]!.r).toBe(false);

    // COMMAND succeeds but a check fails (after its retries): exit 5, rolled back. People get a summary.
    const check = await run(['run', '--health-timeout', '2s', '--check-sql', 'select count(*) = 99 from t', '--', ...change('D', ' && echo said-D')]);
    expect(check.code, check.stderr).toBe(5);
    expect(check.stdout).toContain('said-D'); // COMMAND's stdout is the caller's
    expect(check.stdout).toMatch(/the change FAILED: --check-sql select count\(\*\) = 99 from t failed/);
    expect(check.stdout).toMatch(/rolled back to .*the failed state is kept as snapshot \S+-pre-rollback/s);
    expect(await rows()).toEqual(['A', 'B']);
    expect(await readFile(marker, 'utf8')).toBe('B\n');

    // A --check argv failing: the same.
    const argvCheck = await run(['--json', 'run', '--health-timeout', '1', '--check', 'false', '--', ...change('E')]);
    expect(argvCheck.code, argvCheck.stderr).toBe(5);
    expect(argvCheck.json.failure).toMatchObject({ kind: 'check', check: '--check false' });
    expect(await rows()).toEqual(['A', 'B']);

    // The time limit: TERM (then KILL) to COMMAND's whole process group — its child too — exit 124, rolled back.
    const grandchild = scratch.path('grandchild.pid');
    const slow = await run(['--json', 'run', '--timeout', '2s', '--', ...change('F', ` && { sleep 1000 & echo $! > ${grandchild}; wait; }`)]);
    const sleeper = Number(await readFile(grandchild, 'utf8'));
    scratch.defer(() => void kill(sleeper));
    expect(slow.code, slow.stderr).toBe(124);
    expect(slow.json).toMatchObject({ rolledBack: true, failure: { kind: 'timeout' } });
    expect(alive(sleeper)).toBe(false);
    expect(await rows()).toEqual(['A', 'B']);
    expect(await readFile(marker, 'utf8')).toBe('B\n');

    // --on-failure keep: the failed state stays, with the way back.
    const kept = await run(['--json', 'run', '--on-failure', 'keep', '--', ...change('G', ' && exit 3')]);
    expect(kept.code, kept.stderr).toBe(3);
    expect(kept.json).toMatchObject({ rolledBack: false, preRollback: null, undo: `lychd-crypt rollback ${kept.json.snapshot}` });
    expect(await rows()).toEqual(['A', 'B', 'G']);
    await expect(readFile(fx.paths.journal)).rejects.toThrow();
  }, 300_000);

  test('a nested run exits 4; SIGKILL of lychd-crypt while COMMAND runs: busy while it lives, then the next command rolls back', async () => {
    const { scratch, fx, marker, change, rows, run, bundle } = await setup();

    const status = scratch.path('nested-status');
    const nested = await run(['--json', 'run', '--', 'sh', '-c', `node ${bundle} --crypt ${fx.root} run -- true; echo $? > ${status}`]);
    expect(nested.code, nested.stderr).toBe(0);
    expect((await readFile(status, 'utf8')).trim()).toBe('4');

    const child = spawn('node', [bundle, '--crypt', fx.root, 'run', '--', ...change('Z', ' && exec sleep 600')], { cwd: '/', stdio: 'ignore' });
    const closed = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_c, s) => resolve(s)));
    let journal: { op: string; pid?: number; phase: string; snapshot: string } | undefined;
    let sleeper: number | undefined;
    scratch.defer(() => {
      child.kill('SIGKILL');
      try {
        if (sleeper) process.kill(sleeper, 'SIGKILL');
      } catch {
        /* already gone */
      }
    });
    for (let i = 0; i < 600; i++) {
      journal = await readFile(fx.paths.journal, 'utf8').then((t) => JSON.parse(t), () => undefined);
      if (journal?.op === 'run' && journal.pid && (await rows()).includes('Z')) break;
      await sleep(100);
    }
    expect(journal).toMatchObject({ op: 'run', phase: 'running', onFailure: 'rollback' });
    sleeper = journal!.pid!;
    child.kill('SIGKILL');
    expect(await closed).toBe('SIGKILL');

    // COMMAND (now `sleep`, exec'd by sh) still runs: the change is not over.
    const busy = await run(['snapshot']);
    expect(busy.code, busy.stderr).toBe(4);
    expect(busy.stderr).toMatch(/interrupted guarded run.*still running/);
    expect(await rows()).toContain('Z');

    process.kill(sleeper, 'SIGKILL');
    await sleep(200);
    const next = await run(['--json', 'snapshot', '--label', 'after']);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/recovered: the guarded run of .* was interrupted \(phase running\): rolled back to \S+; the interrupted state is snapshot \S+-pre-rollback/);
    expect(await rows()).toEqual(['A']);
    expect(await readFile(marker, 'utf8')).toBe('v1');
    await expect(readFile(fx.paths.journal)).rejects.toThrow();

    // A crash between COMMAND's start and its pid reaching the journal: the run's id in COMMAND's
    // environment finds it (busy while it lives), then the next command rolls back.
    const pidFile = scratch.path('command.pid');
    // stdio ignored: COMMAND outlives lychd-crypt and would hold its output pipes open.
    const crashing = spawn('node', [bundle, '--crypt', fx.root, 'run', '--', 'sh', '-c', `echo $$ > ${pidFile}; ${change('Y')[2]} && exec sleep 600`], {
      cwd: '/',
      stdio: 'ignore',
      env: { ...process.env, LYCHD_CRYPT_FAULT: 'run:spawned' },
    });
    expect(await new Promise((resolve) => crashing.on('exit', (_c, sig) => resolve(sig)))).toBe('SIGKILL');
    let command = 0;
    for (let i = 0; i < 600 && !((await rows()).includes('Y') && command); i++) {
      command = Number(await readFile(pidFile, 'utf8').catch(() => '0'));
      await sleep(100);
    }
    scratch.defer(() => void kill(command));
    const journaled = JSON.parse(await readFile(fx.paths.journal, 'utf8'));
    expect(journaled).toMatchObject({ op: 'run', phase: 'started' });
    expect(journaled.pid).toBeUndefined();
    const waiting = await run(['snapshot']);
    expect(waiting.code, waiting.stderr).toBe(4);
    expect(waiting.stderr).toContain(`(pid ${command}), is still running`);
    kill(command);
    for (let i = 0; i < 50 && alive(command); i++) await sleep(100);
    const recovered = await run(['snapshot', '--label', 'after-crash']);
    expect(recovered.code, recovered.stderr).toBe(0);
    expect(recovered.stderr).toMatch(/recovered: the guarded run of .* was interrupted \(phase started\): rolled back/);
    expect(await rows()).toEqual(['A']);
  }, 300_000);
});

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** Runs, not a zombie (this container's PID 1 may not reap orphans). */
function alive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()![0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
