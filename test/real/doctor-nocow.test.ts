// The C-attribute rewrite on a real PostgreSQL 15 database: files copied without C are found by doctor;
// repair refuses (exit 3) while the server runs, rewrites them with the server stopped (database files
// byte for byte the same), and a crash at any point of the rewrite is finished or undone by the next
// repair without losing a row.
import { renameSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectHealed, hashFiles, initCrypt, problems, type InitCrypt } from '../helpers/doctor.js';
import { PG_BIN, skipReason } from '../helpers/env.js';
import { sh } from '../helpers/host.js';
import { runCli } from '../helpers/init.js';
import { startTestServer, type TestServer } from '../helpers/pg.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite } from '../helpers/suite.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');

describe.skipIf(skip)(`repair: PGDATA without C, PostgreSQL 15 ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();
  let scratch: Scratch;

  /** A crypt with a PG15 cluster in active/postgres holding rows, stopped, its files then copied without C. */
  async function brokenDatabase(service: 'pg_ctl' | 'none' = 'pg_ctl'): Promise<{ c: InitCrypt; server: TestServer; pgdata: string }> {
    scratch = await suite.scratch();
    const socketDir = scratch.path('sock');
    const c = await initCrypt(scratch, suite.bundle, {
      postgres: { connection: { host: socketDir, port: 5432 }, bin: PG_BIN[15], service: { kind: service } },
    });
    const pgdata = path.join(c.crypt, 'active/postgres');
    const server = await startTestServer(scratch, { version: 15, pgdata, socketDir });
    await server.query('CREATE TABLE t (id int PRIMARY KEY, v text)');
    await server.query("INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 5000) g");
    server.stop();
    expect(sh(['lsattr', '-d', path.join(pgdata, 'global/pg_control')])).toMatch(/^\S*C/);
    // Break it the way a hand copy does: the same files, written into a directory without C.
    const old = `${pgdata}.old`;
    renameSync(pgdata, old);
    mkdirSync(pgdata);
    sh(['cp', '-a', '--reflink=never', '--', `${old}/.`, `${pgdata}/`]);
    rmSync(old, { recursive: true });
    expect(sh(['lsattr', '-d', path.join(pgdata, 'global/pg_control')])).not.toMatch(/^\S*C/);
    return { c, server, pgdata };
  }

  async function expectRows(server: TestServer): Promise<void> {
    server.start();
    const rows = await server.query<{ n: string; s: string }>("SELECT count(*) AS n, sum(length(v)) AS s FROM t");
    expect(rows[0]).toEqual({ n: '5000', s: String(5000 * 200) });
    server.stop();
  }

  function expectAllC(pgdata: string): void {
    const lines = sh(['find', pgdata, '(', '-type', 'f', '-o', '-type', 'd', ')', '-exec', 'lsattr', '-d', '{}', '+']).trim().split('\n');
    expect(lines.filter((l) => !/^\S*C\S* /.test(l))).toEqual([]);
  }

  it('no service configured: refused (exit 3) while the server runs; rewritten once stopped; files byte for byte the same; rows intact', async () => {
    const { c, server, pgdata } = await brokenDatabase('none');
    server.start();
    const refused = c.cli('repair', '--yes');
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toMatch(/running/);
    server.stop();
    expectHealed(c, scratch.dir, ['pgdata.nocow'], { dataDir: pgdata });
    expectAllC(pgdata);
    await expectRows(server);
  });

  it('service pg_ctl: a running server is stopped for the rewrite and started again', async () => {
    const { c, server, pgdata } = await brokenDatabase('pg_ctl');
    server.start();
    const pid = sh(['head', '-1', path.join(pgdata, 'postmaster.pid')]).trim();
    const repair = c.cli('repair', '--yes', '--json');
    expect(repair.code, repair.stdout + repair.stderr).toBe(0);
    expect(repair.json.done.find((d: { kind: string }) => d.kind === 'nocow-rewrite').result).toMatch(/runs again/);
    expect(server.isRunning()).toBe(true);
    expect(sh(['head', '-1', path.join(pgdata, 'postmaster.pid')]).trim()).not.toBe(pid);
    expect(c.cli('doctor').code).toBe(0);
    server.stop();
    expectAllC(pgdata);
    await expectRows(server);
  });

  it('a crash while the running server was stopped for the rewrite: the next repair restarts it and finishes', async () => {
    const { c, server, pgdata } = await brokenDatabase('pg_ctl');
    server.start();
    const crashed = runCli(suite.bundle, ['--crypt', c.crypt, 'repair', '--yes'], { LYCHD_CRYPT_FAULT: 'nocow-after-copy' });
    expect(crashed.code, crashed.stderr).toBe(-1);
    expect(server.isRunning()).toBe(false);
    const repair = c.cli('repair', '--yes', '--json');
    expect(repair.code, repair.stdout + repair.stderr).toBe(0);
    expect(server.isRunning()).toBe(true);
    server.stop();
    expect(c.cli('doctor').code).toBe(0);
    expectAllC(pgdata);
    await expectRows(server);
  });

  for (const point of ['nocow-after-journal', 'nocow-after-copy', 'nocow-after-verify', 'nocow-after-swap', 'nocow-after-remove']) {
    it(`a crash at ${point} is recovered by the next repair; nothing is lost`, async () => {
      const { c, server, pgdata } = await brokenDatabase();
      const files = hashFiles(pgdata);
      const crashed = runCli(suite.bundle, ['--crypt', c.crypt, 'repair', '--yes'], { LYCHD_CRYPT_FAULT: point });
      expect(crashed.code, crashed.stderr).toBe(-1); // killed by SIGKILL
      const doctor = c.cli('doctor', '--json');
      expect(doctor.code).toBe(1);
      expect(problems(doctor)).toContain('journal.pending');
      const repair = c.cli('repair', '--yes', '--json');
      expect(repair.code, repair.stdout + repair.stderr).toBe(0);
      expect(c.cli('doctor').code).toBe(0);
      expect(hashFiles(pgdata)).toEqual(files);
      expect(sh(['ls', '-A', path.join(c.crypt, 'active')]).split('\n').filter((n) => n.startsWith('.lychd-nocow-'))).toEqual([]);
      expectAllC(pgdata);
      await expectRows(server);
    });
  }
});
