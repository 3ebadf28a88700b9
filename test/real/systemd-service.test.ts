// postgres.service `{ kind: systemd }` for real, under a real systemd (test/helpers/systemd.ts): a user
// unit of the crypt's owner (LychD's rootless case, PGDATA owned by the owner) and a system unit. For
// each: a snapshot under pgbench, a rollback that stops and starts the unit through systemctl (with
// Restart=always, which must not bring the server back on the swapped files), its undo, and a rollback
// killed (SIGKILL) while the database is down, recovered by the next command through systemctl.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_BIN, skipReason } from '../helpers/env.js';
import { buildCli } from '../helpers/init.js';
import { makeScratch, type Scratch } from '../helpers/scratch.js';
import { bootSystemd, type Container } from '../helpers/systemd.js';
import { cliIn, unitProps } from '../helpers/systemd-cli.js';
import { PG_UNIT, prepareUnitCrypt, startPgUnit, type UnitCrypt } from '../helpers/systemd-pg.js';

const skip = skipReason('root', 'systemd', 'btrfs', 'loop', 'pg15', 'pgbench');

for (const kind of ['user', 'system'] as const) {
  describe.skipIf(skip)(`postgres.service systemd, ${kind} unit ${skip ? `(skipped: ${skip})` : ''}`, () => {
    let scratch: Scratch;
    let box: Container;
    let bundle: string;
    let u: UnitCrypt;
    const run = (args: string[], env: Record<string, string> = {}) => cliIn(box, bundle, ['--crypt', u.fx.root, '--json', ...args], env);
    const props = () => unitProps(box, PG_UNIT, ['ActiveState', 'MainPID', 'NRestarts', 'InvocationID'], u.owner?.name);
    const rows = async () => (await u.query<{ v: string }>('select v from t order by v')).map((r) => r.v);

    beforeAll(async () => {
      scratch = await makeScratch();
      bundle = buildCli(scratch);
      u = await prepareUnitCrypt(scratch, kind);
      box = await bootSystemd({ scratch });
      await startPgUnit(box, u);
      await box.waitFor('the server to accept connections', async () => {
        try {
          await u.query('select 1');
          return true;
        } catch {
          return false;
        }
      });
    }, 240_000);
    afterAll(async () => {
      await scratch?.cleanup();
    }, 120_000);

    it('runs the server as the unit says: active, under the expected user', async () => {
      const p = await props();
      expect(p.ActiveState).toBe('active');
      const owner = await box.exec(['ps', '-o', 'user=', '-p', p.MainPID!]);
      expect(owner.stdout.trim()).toBe(u.runAs.name);
      expect((await u.query<{ r: boolean }>('select pg_is_in_recovery() as r'))[0]!.r).toBe(false);
    });

    it('snapshot under pgbench, rollback and undo through systemctl; Restart=always never fires', async () => {
      const conn = ['-h', u.socketDir, '-p', String(u.port), '-U', 'postgres'];
      execFileSync(path.join(PG_BIN[15], 'pgbench'), ['-i', '-s', '2', '-q', ...conn, 'postgres'], { stdio: 'ignore' });
      await u.query('create table t (v text)');
      await u.query("insert into t values ('A')");

      // Light write load while the snapshot is taken; it must still be running when the snapshot returns.
      const bench: ChildProcess = spawn(path.join(PG_BIN[15], 'pgbench'), ['-c', '2', '-T', '600', '-n', ...conn, 'postgres'], { stdio: 'ignore' });
      scratch.defer(() => {
        bench.kill('SIGKILL');
      });
      await box.waitFor('pgbench to commit', async () => Number((await u.query<{ n: number }>('select count(*)::int as n from pgbench_history'))[0]!.n) > 0);
      const snap = await run(['snapshot', '--label', 'base']);
      expect(snap.code, snap.stderr).toBe(0);
      expect(snap.json.snapshot.mode).toBe('bracket');
      expect(bench.exitCode).toBeNull();
      bench.kill('SIGINT');
      await new Promise((r) => (bench.exitCode !== null || bench.signalCode !== null ? r(null) : bench.once('exit', r)));

      await u.query("insert into t values ('B')");
      const before = await props();
      const rb = await run(['rollback', snap.json.snapshot.name, '--yes']);
      expect(rb.code, rb.stderr).toBe(0);
      expect(rb.json.databaseRestarted).toBe(true);
      const after = await props();
      // Stopped and started through systemctl: a new invocation, a new main PID, no restart by systemd.
      expect(after).toMatchObject({ ActiveState: 'active', NRestarts: '0' });
      expect(after.InvocationID).not.toBe(before.InvocationID);
      expect(after.MainPID).not.toBe(before.MainPID);
      expect(await rows()).toEqual(['A']);
      expect((await u.query<{ r: boolean }>('select pg_is_in_recovery() as r'))[0]!.r).toBe(false);

      const undo = await run(['rollback', rb.json.preRollback, '--yes']);
      expect(undo.code, undo.stderr).toBe(0);
      expect(await props()).toMatchObject({ ActiveState: 'active', NRestarts: '0' });
      expect(await rows()).toEqual(['A', 'B']);
    }, 300_000);

    for (const point of ['rollback:stop', 'rollback:swapped'] as const) {
      it(`rollback killed at ${point}: the unit stays stopped (no restart on swapped files); the next command recovers through systemctl`, async () => {
        const snap = await run(['snapshot', '--label', `before-${point}`]);
        expect(snap.code, snap.stderr).toBe(0);
        await u.query(`insert into t values ('after-${point}')`);
        const expected = point === 'rollback:stop' ? await rows() : (await rows()).filter((v) => v !== `after-${point}`);

        const killed = await run(['rollback', snap.json.snapshot.name, '--yes'], { LYCHD_CRYPT_FAULT: point });
        expect(killed.signal ?? killed.code, killed.stderr).toBe('SIGKILL');
        // The server was stopped through the unit before the crash; Restart=always did not start it again.
        expect(await props()).toMatchObject({ ActiveState: 'inactive', NRestarts: '0' });

        const next = await run(['snapshot', '--label', 'next']);
        expect(next.code, next.stderr).toBe(0);
        expect(await props()).toMatchObject({ ActiveState: 'active', NRestarts: '0' });
        expect(await rows()).toEqual(expected);
        expect((await u.query<{ r: boolean }>('select pg_is_in_recovery() as r'))[0]!.r).toBe(false);
      }, 300_000);
    }
  });
}
