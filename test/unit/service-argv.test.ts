// The exact commands each postgres.service kind runs (systemd cannot run here: it is not PID 1), and
// stopDatabase's contract checked against a stand-in postmaster: the old PID must really be gone.
import { afterEach, describe, expect, test } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PostgresConfig, ServiceConfig } from '../../src/model/config.js';
import { RecordingRunner } from '../../src/base/runner.js';
import { pgCtlServerOptions, pgLogFile, serviceArgv, type ServiceTarget } from '../../src/runtime/service/argv.js';
import { startDatabase, stopDatabase } from '../../src/runtime/service/control.js';

function pgConfig(service: ServiceConfig, host = '/run/postgresql'): PostgresConfig {
  return {
    dir: 'postgres',
    osUser: 'postgres',
    uid: 105,
    gid: 110,
    connection: { host, port: 5433, user: 'postgres', database: 'postgres' },
    bin: '/usr/lib/postgresql/15/bin',
    service,
  };
}

function target(service: ServiceConfig, host?: string): ServiceTarget {
  return {
    pg: pgConfig(service, host),
    pgdata: '/c/active/postgres',
    binDir: '/usr/lib/postgresql/15/bin',
    cryptUser: 'alice',
    logFile: pgLogFile('/c/log'),
  };
}

describe('serviceArgv', () => {
  test('pg_ctl: stop fast / immediate, start with the log beside active/ and the configured socket and port', () => {
    const t = target({ kind: 'pg_ctl' });
    const su = ['setsid', 'setpriv', '--reuid=105', '--regid=110', '--clear-groups', '--'];
    const ctl = [...su, '/usr/lib/postgresql/15/bin/pg_ctl', '-D', '/c/active/postgres', '-w', '-t', '120'];
    expect(serviceArgv(t, 'stop')).toEqual([...ctl, '-m', 'fast', 'stop']);
    expect(serviceArgv(t, 'stop', 'immediate')).toEqual([...ctl, '-m', 'immediate', 'stop']);
    expect(serviceArgv(t, 'start')).toEqual([...ctl, '-l', '/c/log/pg_ctl.log', '-o', '-p 5433 -k /run/postgresql', 'start']);
  });

  test('pg_ctl -o: no socket directory for a TCP host or a path the shell would split', () => {
    expect(pgCtlServerOptions(pgConfig({ kind: 'pg_ctl' }, 'localhost'))).toEqual(['-o', '-p 5433']);
    expect(pgCtlServerOptions(pgConfig({ kind: 'pg_ctl' }, "/tmp/a b'c"))).toEqual(['-o', '-p 5433']);
  });

  test('systemd system unit', () => {
    const t = target({ kind: 'systemd', unit: 'postgresql@15-main.service', user: false });
    expect(serviceArgv(t, 'stop')).toEqual(['systemctl', 'stop', 'postgresql@15-main.service']);
    expect(serviceArgv(t, 'start')).toEqual(['systemctl', 'start', 'postgresql@15-main.service']);
  });

  test("systemd user unit (e.g. a rootless Podman Quadlet): the crypt user's manager via -M user@", () => {
    const t = target({ kind: 'systemd', unit: 'lychd-db.service', user: true });
    expect(serviceArgv(t, 'stop')).toEqual(['systemctl', '--user', '-M', 'alice@', 'stop', 'lychd-db.service']);
    expect(serviceArgv(t, 'start')).toEqual(['systemctl', '--user', '-M', 'alice@', 'start', 'lychd-db.service']);
  });

  test('command: the configured argv, unchanged', () => {
    const t = target({ kind: 'command', stop: ['/usr/local/bin/db', 'stop'], start: ['/usr/local/bin/db', 'start', '--now'] });
    expect(serviceArgv(t, 'stop')).toEqual(['/usr/local/bin/db', 'stop']);
    expect(serviceArgv(t, 'start')).toEqual(['/usr/local/bin/db', 'start', '--now']);
  });

  test('none: there is nothing to run', () => {
    expect(() => serviceArgv(target({ kind: 'none' }), 'stop')).toThrow(/none/);
  });
});

describe('stopDatabase / startDatabase with a stand-in postmaster', () => {
  let dir: string | undefined;
  let child: ChildProcess | undefined;
  afterEach(async () => {
    child?.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = child = undefined;
  });

  /** A process whose name is "postgres", announced in postmaster.pid as a real server would. */
  async function fakePostmaster(): Promise<{ pgdata: string; pid: number }> {
    dir = await mkdtemp(path.join(tmpdir(), 'lychd-svc-'));
    const exe = path.join(dir, 'postgres');
    await copyFile('/bin/sleep', exe);
    await import('node:fs/promises').then((f) => f.chmod(exe, 0o755));
    child = spawn(exe, ['600'], { stdio: 'ignore' });
    const pid = child.pid!;
    await writeFile(path.join(dir, 'postmaster.pid'), `${pid}\n${dir}\n0\n5433\n/run/postgresql\n`);
    await new Promise((r) => setTimeout(r, 50));
    return { pgdata: dir, pid };
  }

  test('systemd user unit: runs exactly the argv, and returns once the old PID is gone', async () => {
    const { pgdata } = await fakePostmaster();
    const runner = new RecordingRunner((argv) => {
      if (argv[0] === 'systemctl') {
        child!.kill('SIGTERM');
        return {};
      }
      return undefined;
    });
    const pg = pgConfig({ kind: 'systemd', unit: 'lychd-db.service', user: true });
    expect(await stopDatabase(runner, pg, pgdata, { user: 'alice', logDir: '/c/log' })).toBe(true);
    expect(runner.calls).toEqual([['systemctl', '--user', '-M', 'alice@', 'stop', 'lychd-db.service']]);
  });

  test('pg_ctl: a fast stop that fails (timed out) escalates to immediate', async () => {
    const { pgdata } = await fakePostmaster();
    const runner = new RecordingRunner((argv) => {
      if (argv.includes('fast')) return { exitCode: 1, stderr: 'pg_ctl: server does not shut down' };
      if (argv.includes('immediate')) {
        child!.kill('SIGKILL');
        return {};
      }
      return undefined;
    });
    const pg = { ...pgConfig({ kind: 'pg_ctl' }), bin: '/usr/lib/postgresql/15/bin' };
    expect(await stopDatabase(runner, pg, pgdata, { user: 'alice', logDir: '/c/log' })).toBe(true);
    expect(runner.calls.map((c) => c.slice(c.indexOf('-m')))).toEqual([
      ['-m', 'fast', 'stop'],
      ['-m', 'immediate', 'stop'],
    ]);
  });

  test('a server that is not running is not stopped; service none with a running server is refused (exit 3)', async () => {
    const { pgdata } = await fakePostmaster();
    const runner = new RecordingRunner();
    await expect(stopDatabase(runner, pgConfig({ kind: 'none' }), pgdata, { user: 'alice', logDir: '/c/log' })).rejects.toMatchObject({ exitCode: 3 });
    child!.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    expect(await stopDatabase(runner, pgConfig({ kind: 'systemd', unit: 'x.service', user: false }), pgdata, { user: 'alice', logDir: '/c/log' })).toBe(false);
    expect(runner.calls).toEqual([]);
  });

  test('a running server is not started twice', async () => {
    const { pgdata } = await fakePostmaster();
    const runner = new RecordingRunner();
    await startDatabase(runner, pgConfig({ kind: 'systemd', unit: 'x.service', user: false }), pgdata, { user: 'alice', logDir: '/c/log' });
    expect(runner.calls).toEqual([]);
  });
});

describe('pg_ctl and the shell (trust finding 6)', () => {
  test('a PGDATA or log pg_ctl would hand to /bin/sh is refused (exit 3) before anything runs', () => {
    for (const pgdata of ['/srv/$(touch /tmp/pwned)/active/postgres', '/srv/a`id`/active/postgres', '/srv/a"b/active/postgres']) {
      expect(() => serviceArgv({ ...target({ kind: 'pg_ctl' }), pgdata }, 'start')).toThrow(/pg_ctl would hand to \/bin\/sh/);
    }
    // Spaces are fine: pg_ctl quotes -D.
    expect(serviceArgv({ ...target({ kind: 'pg_ctl' }), pgdata: '/srv/my crypt/active/postgres' }, 'start')).toContain('/srv/my crypt/active/postgres');
  });
});
