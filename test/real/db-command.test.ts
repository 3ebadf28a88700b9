// `lychd-crypt db start|stop|status` through the configured service (pg_ctl here): stop, start, a crashed
// server found and started again, and a start that fails shows the server log's tail, not a stack trace.
import { describe, expect, test } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';
import { cli, cryptWithServer } from '../helpers/snap.js';

const scratches = scratchSuite();
let scratch: Scratch | undefined;

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');

describe.skipIf(skip)(`lychd-crypt db ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('status, stop, start; a crashed server is reported and started again', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    await server.query('create table t as select 1 as x');

    const up = await cli(fx.root, ['--json', 'db', 'status']);
    expect(up.code, up.stderr).toBe(0);
    expect(up.json.state).toBe('running');

    const stop = await cli(fx.root, ['db', 'stop']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toMatch(/PostgreSQL stopped/);
    const down = await cli(fx.root, ['db', 'status']);
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/PostgreSQL is stopped/);

    const start = await cli(fx.root, ['--json', 'db', 'start']);
    expect(start.code, start.stderr).toBe(0);
    expect(start.json.state).toBe('running');
    expect((await server.query('select x from t'))[0]!.x).toBe(1);
    expect((await cli(fx.root, ['db', 'start'])).stdout).toMatch(/nothing to do/);

    // A crash: the postmaster killed; its postmaster.pid stays behind.
    const pid = Number((await readFile(path.join(fx.pgdata, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    // PostgreSQL itself refuses to start while the old PID exists, even as a zombie: wait until it is reaped.
    for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 100));
    const left = (() => {
      try {
        return readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        return null;
      }
    })();
    expect(left, `pid ${pid} not reaped`).toBeNull();
    const crashed = await cli(fx.root, ['--json', 'db', 'status']);
    expect(crashed.code).toBe(1);
    expect(crashed.json.state).toBe('crashed');
    const again = await cli(fx.root, ['db', 'start']);
    expect(again.code, again.stderr).toBe(0);
    expect((await server.query('select x from t'))[0]!.x).toBe(1);
  });

  test('a start that fails shows the tail of the server log and no stack trace', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    server.stop('fast');
    await appendFile(path.join(fx.pgdata, 'postgresql.conf'), "\nshared_buffers = 'lots'\n");
    const r = await cli(fx.root, ['--json', 'db', 'start']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/PostgreSQL did not start/);
    expect(r.stderr).toMatch(/last lines of .*pg_ctl\.log:[\s\S]*shared_buffers/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.json.error.hint).toMatch(/db start/);
    const status = await cli(fx.root, ['db', 'status']);
    expect(status.stdout).toMatch(/last lines of .*pg_ctl\.log/);
  });
});
